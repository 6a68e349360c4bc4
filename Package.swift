// swift-tools-version:6.1
import PackageDescription

// scripts/install.sh writes Sources/tributary/Generated/BuildStamp.swift (the commit being built) and sets
// TRIBUTARY_BUILD_STAMP=1 so that the CLI compiles it in; any other build reports the commit as "unknown".
let buildStamp: [SwiftSetting] = Context.environment["TRIBUTARY_BUILD_STAMP"] == "1" ? [.define("TRIBUTARY_BUILD_STAMP")] : []

let package = Package(
    name: "Tributary",
    products: [
        .library(name: "Tributary", targets: ["Tributary"]),
        .library(name: "TributaryDashboard", targets: ["TributaryDashboard"]),
        .executable(name: "tributary", targets: ["tributary"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // AES-256-GCM for encrypted job fields (FieldCipher); the Tributary library target only.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // `swift package generate-documentation` (scripts/docs.sh); a command plugin, not linked into anything.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The dashboard's HTTP server (TributaryDashboard target only; the Tributary library has no HTTP dependency).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // Prometheus text for /metrics on the dashboard and `worker --metrics-port` (TributaryDashboard only).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),
        .target(
            name: "Tributary",
            dependencies: [
                "CHiredis",
                "CJansson",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            resources: [.embedInCode("Scripts/lua")]
        ),
        .target(
            name: "TributaryDashboard",
            dependencies: [
                "Tributary",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "tributary",
            dependencies: [
                "Tributary",
                "TributaryDashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: buildStamp
        ),
        .executableTarget(
            name: "TributaryBenchmarks",
            dependencies: [
                "Tributary",
                "TributaryDashboard",
                "EchoWorker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "Pipelining",
            dependencies: ["Tributary"],
            path: "Examples/Pipelining"
        ),
        .executableTarget(
            name: "EchoWorker",
            dependencies: [
                "Tributary",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/EchoWorker"
        ),
        .executableTarget(
            name: "TypedWorker",
            dependencies: ["Tributary"],
            path: "Examples/TypedWorker"
        ),
        .executableTarget(
            name: "FlowInCode",
            dependencies: ["Tributary"],
            path: "Examples/FlowInCode"
        ),
        .executableTarget(
            name: "StepFanOut",
            dependencies: ["Tributary"],
            path: "Examples/StepFanOut"
        ),
        .testTarget(
            name: "TributaryTests",
            dependencies: [
                "Tributary",
                "EchoWorker",
                "TypedWorker",
                "FlowInCode",
                "StepFanOut",
                "tributary",
                "TributaryDashboard",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            exclude: ["Python"]
        ),
    ]
)
