import Glibc
import Testing
@testable import LinuxSys

/// podrun's constructor (CPodrunShim's arguments.c) hands argc and argv to the standard library, whose own argv
/// finder the release binary leaves out: `CommandLine` must then be exactly the process' arguments as the kernel
/// has them.
@Suite struct ArgumentHandoverTests {
    @Test func commandLineIsTheProcessArgumentsHandedOverAtStart() throws {
        let cmdline = try FileIO.readString("/proc/self/cmdline")
        var kernelArguments = cmdline.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        if kernelArguments.last == "" { kernelArguments.removeLast() }
        #expect(Int(CommandLine.argc) == kernelArguments.count)
        #expect(CommandLine.arguments == kernelArguments)
        #expect(CommandLine.unsafeArgv[Int(CommandLine.argc)] == nil, "argv ends with a null pointer")
    }
}
