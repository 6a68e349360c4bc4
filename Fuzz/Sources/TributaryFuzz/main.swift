// The command line of the fuzz executable:
//   TributaryFuzz TARGET [libFuzzer flags] [CORPUS_DIR...]   fuzz TARGET (fuzz build), or replay files (plain build)
//   TributaryFuzz --list                                      the targets and what each checks
// TARGET may also come from TRIBUTARY_FUZZ_TARGET; it is exported again so that processes libFuzzer starts itself
// (-fork, -jobs, -minimize_crash) fuzz the same target.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

var arguments = CommandLine.arguments
if arguments.dropFirst().first == "--list" {
    for target in FuzzTarget.all {
        print(target.name + String(repeating: " ", count: max(1, 10 - target.name.count)) + target.summary)
    }
    exit(0)
}
var target: FuzzTarget?
if arguments.count > 1, let named = FuzzTarget.named(arguments[1]) {
    target = named
    arguments.remove(at: 1)
} else if let name = getenv("TRIBUTARY_FUZZ_TARGET").map({ String(cString: $0) }) {
    target = FuzzTarget.named(name)
}
guard let target else {
    let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
    printToStandardError("usage: TributaryFuzz TARGET [libFuzzer flags] [CORPUS_DIR...]   (targets: \(names); --list explains them)\n")
    exit(2)
}
setenv("TRIBUTARY_FUZZ_TARGET", target.name, 1)
selectedTarget = target

#if TRIBUTARY_FUZZING
exit(runLibFuzzer(arguments: arguments))
#else
exit(replay(target, paths: Array(arguments.dropFirst())))
#endif
