import OCISpec

/// Device cgroup rules: the spec's, plus the devices runc always allows.
public enum DeviceRules {
    /// runc's `AllowedDevices`: mknod of anything, the standard nodes, ptys and tun.
    public static let runcAllowed: [LinuxDeviceCgroup] = [
        LinuxDeviceCgroup(allow: true, type: "c", access: "m"),
        LinuxDeviceCgroup(allow: true, type: "b", access: "m"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 136, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 200, access: "rwm"),
    ]

    /// The rules a container's cgroup gets for the spec's `rules`: the spec's, then runc's allowed devices
    /// (later rules win, so runc's list survives a spec's leading "deny all").
    public static func effective(_ rules: [LinuxDeviceCgroup]) -> [LinuxDeviceCgroup] {
        rules + runcAllowed
    }

    /// The v1 `devices.allow`/`devices.deny` writes for `rules`, in order: (file, line).
    public static func v1Writes(_ rules: [LinuxDeviceCgroup]) -> [(file: String, line: String)] {
        rules.map { rule in
            (rule.allow ? "devices.allow" : "devices.deny", line(rule))
        }
    }

    /// A rule as the devices controller reads it: `c 1:3 rwm`, `a *:* rwm`.
    public static func line(_ rule: LinuxDeviceCgroup) -> String {
        let type = (rule.type ?? "a").isEmpty ? "a" : (rule.type ?? "a")
        func number(_ n: Int64?) -> String { n.map { $0 < 0 ? "*" : String($0) } ?? "*" }
        let access = (rule.access ?? "rwm").isEmpty ? "rwm" : (rule.access ?? "rwm")
        return "\(type) \(number(rule.major)):\(number(rule.minor)) \(access)"
    }
}
