// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "perftop",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "perftop", targets: ["perftop"]),
        // For the libFuzzer package in Fuzz/ (Scripts/fuzz_libfuzzer.sh).
        .library(name: "ProfileModel", targets: ["ProfileModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        // No pkgConfig: ncursesw's .pc file adds -D flags that SwiftPM refuses with a warning on
        // every build; the shim defines what the wide-character API needs and the module map links.
        .systemLibrary(name: "CNCurses", providers: [.apt(["libncurses-dev"])]),
        .target(name: "CPrefetch"),
        // Readers run tight loops over class state: dynamic exclusivity checks cost ~10% there
        // (BENCHMARKS.md), and the model is single-writer by design (a builder, then frozen).
        .target(name: "ProfileModel", dependencies: [
                    "CZlib", "CZstd", "CPrefetch",
                    .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                ],
                exclude: ["Formats/Generated/profile.proto"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        .target(name: "TUI", dependencies: ["ProfileModel", "CNCurses"]),
        .executableTarget(name: "perftop", dependencies: [
            "ProfileModel", "TUI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "perftop-bench", dependencies: ["ProfileModel", "TUI"]),
        .testTarget(name: "ProfileModelTests", dependencies: ["ProfileModel"]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "ProfileModel"], exclude: ["Snapshots"]),
        .testTarget(name: "perftopTests", dependencies: ["perftop"]),
    ]
)
