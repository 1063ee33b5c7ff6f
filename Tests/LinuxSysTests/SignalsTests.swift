import Glibc
import LinuxSys
import PodrunCore
import Testing

@Test func signalNamesParseWithOrWithoutPrefixInAnyCase() throws {
    for text in ["KILL", "SIGKILL", "sigkill", "kill", "SigKill"] {
        #expect(try Signals.parse(text) == SIGKILL, "\(text)")
    }
    #expect(try Signals.parse("TERM") == SIGTERM)
    #expect(try Signals.parse("sigwinch") == SIGWINCH)
    #expect(try Signals.parse("SIGSYS") == 31)
}

@Test func signalNumbersParseAsThemselves() throws {
    #expect(try Signals.parse("9") == 9)
    #expect(try Signals.parse("15") == 15)
    #expect(try Signals.parse("0") == 0)
    #expect(try Signals.parse("64") == 64)
}

@Test func realTimeSignalsParseRelativeToGlibcRange() throws {
    #expect(Signals.realTimeMin == 34)
    #expect(Signals.realTimeMax == 64)
    #expect(try Signals.parse("SIGRTMIN") == 34)
    #expect(try Signals.parse("SIGRTMIN+3") == 37)
    #expect(try Signals.parse("rtmin+3") == 37)
    #expect(try Signals.parse("RTMAX-1") == 63)
    #expect(try Signals.parse("SIGRTMAX") == 64)
}

@Test func signalAliasesParse() throws {
    #expect(try Signals.parse("IOT") == SIGABRT)
    #expect(try Signals.parse("SIGCLD") == SIGCHLD)
    #expect(try Signals.parse("poll") == SIGIO)
}

@Test func unknownSignalsAreRejected() {
    for text in ["", "SIGFOO", "SIG", "65", "-1", "+9", "9x", "SIGRTMIN+31", "SIGRTMIN-1", "SIGRTMAX+1",
                 "SIGRTMIN+", "SIGKILL "] {
        #expect(throws: PodrunError.self, "\(text)") { try Signals.parse(text) }
    }
    do {
        _ = try Signals.parse("SIGFOO")
    } catch let error as PodrunError {
        #expect(error.code == .invalidArgument)
        #expect(error.description == "unknown signal \"SIGFOO\"")
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Test func signalNamesAreCanonical() {
    #expect(Signals.name(SIGKILL) == "SIGKILL")
    #expect(Signals.name(SIGABRT) == "SIGABRT")
    #expect(Signals.name(SIGCHLD) == "SIGCHLD")
    #expect(Signals.name(34) == "SIGRTMIN")
    #expect(Signals.name(37) == "SIGRTMIN+3")
    #expect(Signals.name(49) == "SIGRTMIN+15")
    #expect(Signals.name(50) == "SIGRTMAX-14")
    #expect(Signals.name(63) == "SIGRTMAX-1")
    #expect(Signals.name(64) == "SIGRTMAX")
    #expect(Signals.name(0) == nil)
    #expect(Signals.name(32) == nil)
    #expect(Signals.name(65) == nil)
}

@Test func everySignalNameParsesBackToItsNumber() throws {
    for number in Int32(1)...64 {
        guard let name = Signals.name(number) else { continue }
        #expect(try Signals.parse(name) == number, "\(name)")
    }
}
