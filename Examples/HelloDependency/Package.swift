// swift-tools-version:6.1
// A package of its own that uses Tributary as a dependency, the way an application would. Here the dependency is
// this clone, by path; an application names the repository instead:
//
//     .package(url: "https://github.com/<owner>/tributary.git", from: "0.1.0"),
//     ... dependencies: [.product(name: "Tributary", package: "tributary")]
//
// Build and run it (from this directory; it builds Tributary and its dependencies into ./.build):
//
//     swift run HelloDependency redis://127.0.0.1:6379
import PackageDescription

// A path dependency's package identity is the name of its directory, lowercased, which differs between clones
// (`tributary`, `tributary-main`, …): take it from this package's own location, two levels down.
let tributaryIdentity = Context.packageDirectory.split(separator: "/").dropLast(2).last.map { $0.lowercased() } ?? "tributary"

let package = Package(
    name: "HelloDependency",
    dependencies: [
        .package(path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "HelloDependency",
            dependencies: [.product(name: "Tributary", package: tributaryIdentity)]
        ),
    ]
)
