// swift-tools-version: 6.3;(experimentalCGen)
// A Swift program that adds with a GRU: the C target Adder holds adder.gru and its weights, and
// grucc's build-tool plugin compiles them to C whenever either changes. `experimentalCGen` lets
// a plugin add C sources and headers to a C target (SwiftPM 6.3).
//
//   swift run --package-path Examples/swiftpm add 23 42
import PackageDescription

let package = Package(
  name: "grucc-swiftpm-example",
  dependencies: [
    // In your package: .package(url: "<grucc's repository>", branch: "main"), or a local path.
    .package(name: "grucc", path: "../..")
  ],
  targets: [
    .target(name: "Adder", plugins: [.plugin(name: "GruccPlugin", package: "grucc")]),
    .executableTarget(name: "add", dependencies: ["Adder"]),
  ]
)
