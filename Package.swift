// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "grucc",
  products: [
    .executable(name: "grucc", targets: ["grucc"]),
    .library(name: "GruccCore", targets: ["GruccCore"]),
  ],
  targets: [
    .target(name: "GruccCore", linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
    .executableTarget(name: "grucc", dependencies: ["GruccCore"]),
    .testTarget(name: "GruccTests", dependencies: ["GruccCore"]),
  ],
  swiftLanguageModes: [.v6]
)
