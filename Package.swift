// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "grucc",
  products: [
    .executable(name: "grucc", targets: ["grucc"]),
    .library(name: "GruccCore", targets: ["GruccCore"]),
    .plugin(name: "GruccPlugin", targets: ["GruccPlugin"]),
  ],
  targets: [
    .target(name: "GruccCore", linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
    .executableTarget(name: "grucc", dependencies: ["GruccCore"]),
    .testTarget(name: "GruccTests", dependencies: ["GruccCore"]),
    // Compiles the .gru models of a C target to C at build time (Examples/swiftpm).
    .plugin(name: "GruccPlugin", capability: .buildTool(), dependencies: ["grucc"]),
  ],
  swiftLanguageModes: [.v6]
)
