// The process' arguments, handed to the Swift standard library by a constructor of podrun's own.
//
// glibc calls every constructor with argc, argv and envp. Handing them to the standard library through its
// public override (`_swift_stdlib_overrideUnsafeArgvArgc`, what the REPL uses) makes `CommandLine` independent
// of the Swift runtime's own argv constructor, which finds argv by reading /proc/self/maps with sscanf and which
// the static release binary leaves out (scripts/release-link.ld).

/// The standard library's override of `CommandLine`'s argc and argv (Swift's calling convention, which for two
/// integer arguments is C's).
extern void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) __attribute__((swiftcall));

__attribute__((constructor)) static void podrun_hand_over_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    _swift_stdlib_overrideUnsafeArgvArgc(argv, argc);
}
