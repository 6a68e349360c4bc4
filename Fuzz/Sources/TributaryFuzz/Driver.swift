#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if TRIBUTARY_FUZZING
// Built with -sanitize=fuzzer: libFuzzer's runtime is linked in. Its own main() is not used (SwiftPM points the
// executable's entry at main.swift), so main.swift picks the target, then hands the remaining arguments to
// libFuzzer's driver. libFuzzer's main, linked in anyway, refers to LLVMFuzzerTestOneInput, which forwards to
// the selected target as well.

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs one input through the selected target (libFuzzer's entry point).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget?.check(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

/// Runs libFuzzer with `arguments` (the program name first); returns its exit status.
func runLibFuzzer(arguments: [String]) -> CInt {
    var argc = CInt(arguments.count)
    // libFuzzer keeps argv for the whole run, so the copies are never freed.
    var argv = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: arguments.count + 1)
    for (index, argument) in arguments.enumerated() {
        argv[index] = strdup(argument)
    }
    argv[arguments.count] = nil
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzOneInput(data, size)
    }
}
#else
/// Without the fuzzer runtime: runs every file named (directories: every file in them) through `target` once.
/// An invariant that does not hold stops the process, as in a fuzzing run.
func replay(_ target: FuzzTarget, paths: [String]) -> CInt {
    var files: [String] = []
    for path in paths {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if !name.hasPrefix(".") { files.append(path + "/" + name) }
            }
            closedir(directory)
        } else {
            files.append(path)
        }
    }
    for file in files.sorted() {
        guard let bytes = readWholeFile(file) else {
            printToStandardError("\(file): cannot read\n")
            return 1
        }
        bytes.withUnsafeBytes { target.check($0) }
    }
    print("\(target.name): \(files.count) input(s) replayed, every invariant held")
    return 0
}

/// The contents of a file, or `nil` when it cannot be read.
private func readWholeFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[..<count])
    }
    return ferror(file) == 0 ? bytes : nil
}
#endif
