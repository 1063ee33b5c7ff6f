import ImageStore
import OCISpec
import PodrunCore
import Testing

@Suite struct ImageSpecBuilderTests {
    let image = ImageConfig(
        architecture: "amd64", os: "linux",
        config: .init(Env: ["PATH=/custom/bin", "A=1"], Entrypoint: ["/entry"], Cmd: ["serve", "--port", "80"],
                      WorkingDir: "/srv", User: "app"),
        rootfs: .init(diff_ids: []))
    let users = UserDatabase(passwd: "app:x:1000:1000::/home/app:/bin/sh\n", group: "")

    @Test func entrypointAndCmdMakeTheArguments() throws {
        let spec = try ImageSpecBuilder.spec(image: image, options: .init(), users: users)
        #expect(spec.process?.args == ["/entry", "serve", "--port", "80"])
        #expect(spec.process?.cwd == "/srv")
        #expect(spec.process?.user.uid == 1000)
        #expect(spec.process?.env == ["PATH=/custom/bin", "A=1", "HOME=/home/app"])
    }

    @Test func argumentsReplaceCmdButKeepEntrypoint() throws {
        let spec = try ImageSpecBuilder.spec(image: image, options: .init(arguments: ["x"]), users: users)
        #expect(spec.process?.args == ["/entry", "x"])
    }

    @Test func entrypointOverrideDropsImageCmd() throws {
        let spec = try ImageSpecBuilder.spec(image: image, options: .init(entrypoint: ["/bin/sh"]), users: users)
        #expect(spec.process?.args == ["/bin/sh"])
    }

    @Test func envOverridesReplaceByKeyAndPathDefaultsWhenMissing() throws {
        let bare = ImageConfig(architecture: "amd64", os: "linux", config: .init(Cmd: ["sh"]), rootfs: .init(diff_ids: []))
        let spec = try ImageSpecBuilder.spec(image: bare, options: .init(environment: ["A=2", "B=x=y"]), users: users)
        #expect(spec.process?.env == [ImageSpecBuilder.defaultPath, "A=2", "B=x=y", "HOME=/"])
    }

    @Test func securityDefaultsOfPodrunSpecAreKept() throws {
        let spec = try ImageSpecBuilder.spec(image: image, options: .init(), users: users)
        #expect(spec.process?.capabilities?.bounding == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
        #expect(spec.linux?.seccomp != nil)
        #expect(spec.linux?.maskedPaths?.contains("/proc/kcore") == true)
        #expect(spec.process?.noNewPrivileges == true)
        #expect(spec.root?.readonly == false)
    }

    @Test func imageWithoutCommandIsRefused() {
        let empty = ImageConfig(architecture: "amd64", os: "linux", rootfs: .init(diff_ids: []))
        #expect(throws: PodrunError.self) { try ImageSpecBuilder.spec(image: empty, options: .init(), users: users) }
    }

    @Test func envWithoutEqualsAndRelativeWorkdirAreRefused() {
        #expect(throws: PodrunError.self) {
            try ImageSpecBuilder.spec(image: image, options: .init(environment: ["NOEQUALS"]), users: users)
        }
        #expect(throws: PodrunError.self) {
            try ImageSpecBuilder.spec(image: image, options: .init(workingDirectory: "rel"), users: users)
        }
    }
}
