import PodrunCore

/// The users and groups of an image (its `/etc/passwd` and `/etc/group`), and how an image's `User` value
/// (`name`, `uid`, `name:group`, `uid:gid`) resolves against them, as runc's `user.GetExecUser` does.
public struct UserDatabase: Sendable, Equatable {
    /// One `/etc/passwd` line.
    public struct User: Sendable, Equatable {
        public var name: String
        public var uid: UInt32
        public var gid: UInt32
        public var home: String
    }

    /// One `/etc/group` line.
    public struct Group: Sendable, Equatable {
        public var name: String
        public var gid: UInt32
        public var members: [String]
    }

    /// What a `User` value resolves to.
    public struct ExecUser: Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        /// The other groups the user is a member of in `/etc/group`.
        public var additionalGids: [UInt32]
        /// The user's home folder (`/` when the user is not in `/etc/passwd`).
        public var home: String

        /// A value with the given fields.
        public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32], home: String) {
            self.uid = uid
            self.gid = gid
            self.additionalGids = additionalGids
            self.home = home
        }
    }

    /// The users, in file order.
    public var users: [User]
    /// The groups, in file order.
    public var groups: [Group]

    /// A database of the given entries.
    public init(users: [User] = [], groups: [Group] = []) {
        self.users = users
        self.groups = groups
    }

    /// Parses the text of `/etc/passwd` and `/etc/group`; malformed lines are skipped, as libc does.
    public init(passwd: String, group: String) {
        users = passwd.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, !fields[0].hasPrefix("#"),
                  let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { return nil }
            return User(name: String(fields[0]), uid: uid, gid: gid, home: fields.count > 5 ? String(fields[5]) : "/")
        }
        groups = group.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, !fields[0].hasPrefix("#"), let gid = UInt32(fields[2]) else { return nil }
            let members = fields.count > 3 ? fields[3].split(separator: ",").map(String.init) : []
            return Group(name: String(fields[0]), gid: gid, members: members)
        }
    }

    /// Resolves `spec` (empty means root). A name must be in the database; a number need not be. The
    /// primary group is the one given, else the user's, else 0.
    public func resolve(_ spec: String) throws -> ExecUser {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts.first ?? ""
        let groupPart = parts.count > 1 ? parts[1] : nil

        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var home = "/"
        var name: String? = nil
        if userPart.isEmpty {
            if let root = users.first(where: { $0.uid == 0 }) { (gid, home, name) = (root.gid, root.home, root.name) }
        } else if let number = UInt32(userPart) {
            uid = number
            if let entry = users.first(where: { $0.uid == number }) { (gid, home, name) = (entry.gid, entry.home, entry.name) }
        } else {
            guard let entry = users.first(where: { $0.name == userPart }) else {
                throw PodrunError(.invalidSpec, "unable to find user \(userPart): no matching entries in passwd file",
                                  path: "config.User")
            }
            (uid, gid, home, name) = (entry.uid, entry.gid, entry.home, entry.name)
        }
        if let groupPart, !groupPart.isEmpty {
            if let number = UInt32(groupPart) {
                gid = number
            } else {
                guard let entry = groups.first(where: { $0.name == groupPart }) else {
                    throw PodrunError(.invalidSpec, "unable to find group \(groupPart): no matching entries in group file",
                                      path: "config.User")
                }
                gid = entry.gid
            }
        }
        var additional: [UInt32] = []
        if let name, groupPart == nil || groupPart?.isEmpty == true {
            for group in groups where group.members.contains(name) && group.gid != gid && !additional.contains(group.gid) {
                additional.append(group.gid)
            }
        }
        return ExecUser(uid: uid, gid: gid, additionalGids: additional, home: home)
    }
}
