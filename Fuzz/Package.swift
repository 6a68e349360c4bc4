// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for Tributary's parsers (docs/fuzzing.md). A package of its own, depending on Tributary by
// path, so that the normal `swift build --build-tests` never compiles it and the fuzz build (address sanitizer and
// fuzzer instrumentation on every Swift module) lives in its own scratch directory: scripts/fuzz.sh builds it with
//   swift build --package-path Fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DTRIBUTARY_FUZZING
// Built without those flags (`swift build --package-path Fuzz`), the same executable replays files through a
// target instead of fuzzing, which is handy when debugging a crash outside the sanitizers.
// The targets use `@testable import Tributary` (the HiredisReader is internal): they are always built in debug,
// where SwiftPM compiles every module with testing enabled.
let package = Package(
    name: "TributaryFuzz",
    dependencies: [
        .package(name: "Tributary", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
    ],
    targets: [
        .executableTarget(
            name: "TributaryFuzz",
            dependencies: [
                .product(name: "Tributary", package: "Tributary"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
