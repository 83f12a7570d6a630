// The SwiftPM build-tool plugin: compiles every model (.gru, .onnx) in a C target to C at build
// time with the grucc of this package. Each model gives MODEL.c and include/MODEL.h in the
// plugin's work folder; SwiftPM compiles the C into the target and adds that include folder to
// the target's public headers (which needs `// swift-tools-version: 6.3;(experimentalCGen)` in
// the package that uses the plugin: without it SwiftPM drops generated C with a warning).

import Foundation
import PackagePlugin

@main struct GruccPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    guard let module = target as? SourceModuleTarget else { return [] }
    // A C target's sourceFiles lists its C only, so the models are found in its folder.
    let files = Self.files(under: module.directoryURL)
    let models = files.filter { ["gru", "onnx"].contains($0.pathExtension) }
    // A model may read any file beside it (weights, ONNX external data), and SwiftPM takes no
    // depfile: every file of the target that is not code or a model counts as an input.
    let code: Set<String> = ["c", "cc", "cpp", "cxx", "m", "mm", "h", "hh", "hpp", "modulemap", "swift", "s", "S"]
    let data = files.filter { !code.contains($0.pathExtension) && !models.contains($0) }
    let grucc = try context.tool(named: "grucc").url
    let include = context.pluginWorkDirectoryURL.appendingPathComponent("include")
    return models.map { model in
      let stem = model.deletingPathExtension().lastPathComponent
      // The C beside its header, so that its #include "MODEL.h" finds it; SwiftPM compiles any
      // generated C file wherever it is and publishes the headers of include/.
      let c = include.appendingPathComponent(stem + ".c")
      let h = include.appendingPathComponent(stem + ".h")
      return .buildCommand(
        displayName: "grucc: compiling \(model.lastPathComponent) to \(stem).c",
        executable: grucc,
        arguments: [model.path, "-o", c.path],
        inputFiles: [model] + data,
        outputFiles: [c, h])
    }
  }

  /// Every regular file under `directory`, in a fixed order (the commands' order follows it).
  static func files(under directory: URL) -> [URL] {
    let walk = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
    var out: [URL] = []
    while let url = walk?.nextObject() as? URL {
      if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { out.append(url) }
    }
    return out.sorted { $0.path < $1.path }
  }
}
