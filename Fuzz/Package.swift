// swift-tools-version:6.1
// libFuzzer targets for perftop's readers, kept out of the main package so that `swift build`
// and `swift test` never build them. Scripts/fuzz_libfuzzer.sh builds and runs them.
import PackageDescription

let package = Package(
    name: "perftop-fuzz",
    dependencies: [.package(name: "perftop", path: "..")],
    targets: [
        .executableTarget(name: "perftop-fuzz", dependencies: [.product(name: "ProfileModel", package: "perftop")]),
    ]
)
