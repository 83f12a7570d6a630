// ONNX models whose weights live in a file beside them (torch.onnx.export's default): the driver
// reads them, and refuses every file a hostile model could point it to: missing or too short,
// a symbolic link, a folder that leads out of the model's, a FIFO, a directory.

import Foundation
import Testing

@testable import GruccCore

@Suite struct OnnxExternalDataTests {
  static let fixture = FrameworkFixture.root.appendingPathComponent("onnx_dynamo_fixed")

  /// The fixture's model.onnx and model.onnx.data copied to a fresh folder.
  func copied(_ label: String) throws -> URL {
    let dir = try EndToEnd.temporaryDirectory("external-\(label)")
    for f in ["model.onnx", "model.onnx.data"] {
      try FileManager.default.copyItem(at: Self.fixture.appendingPathComponent(f), to: dir.appendingPathComponent(f))
    }
    return dir
  }

  /// The name of a tensor the fixture keeps in model.onnx.data.
  func externalTensor() throws -> String {
    let model = try Onnx.read([UInt8](try Data(contentsOf: Self.fixture.appendingPathComponent("model.onnx"))))
    return try #require(model.graph.initializers.first { $0.external != nil }?.name)
  }

  @Test func theDefaultExportReadsItsDataFileWhereverTheModelIs() throws {
    let dir = try copied("ok")
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = dir.appendingPathComponent("model.onnx").path
    let checked = Driver.run(["check", model])
    #expect(checked.exitCode == 0, "\(checked.stderr)")
    let gru = dir.appendingPathComponent("kws.gru").path
    let imported = Driver.run(["import", model, "-o", gru])
    #expect(imported.exitCode == 0, "\(imported.stderr)")
    #expect(try String(contentsOfFile: gru, encoding: .utf8).contains("model kws\n"))
    // From another working directory, through a relative path with '..': the data is found
    // beside the model, not in the current directory.
    let relative = Driver.run(["check", dir.path + "/../" + dir.lastPathComponent + "/model.onnx"])
    #expect(relative.exitCode == 0, "\(relative.stderr)")
  }

  @Test func aMissingDataFileIsNamed() throws {
    let dir = try copied("missing")
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.removeItem(at: dir.appendingPathComponent("model.onnx.data"))
    let model = dir.appendingPathComponent("model.onnx").path
    let r = Driver.run(["check", model])
    #expect(r.exitCode == 1)
    #expect(r.stderr.hasPrefix("\(model): error: tensor '\(try externalTensor())': external data file 'model.onnx.data': cannot open it: no such file or directory"), "\(r.stderr)")
  }

  @Test func aShortDataFileIsNamedWithItsSize() throws {
    let dir = try copied("short")
    defer { try? FileManager.default.removeItem(at: dir) }
    let data = dir.appendingPathComponent("model.onnx.data")
    try Data(try Data(contentsOf: data).prefix(100)).write(to: data)
    let r = Driver.run(["check", dir.appendingPathComponent("model.onnx").path])
    #expect(r.exitCode == 1 && r.stderr.contains("runs past the end of 'model.onnx.data' (100 bytes)"), "\(r.stderr)")
  }

  @Test func aDataFileThatIsASymbolicLinkIsRefused() throws {
    let dir = try copied("symlink")
    let outside = try copied("symlink-target")
    defer {
      try? FileManager.default.removeItem(at: dir)
      try? FileManager.default.removeItem(at: outside)
    }
    let data = dir.appendingPathComponent("model.onnx.data")
    try FileManager.default.removeItem(at: data)
    try FileManager.default.createSymbolicLink(at: data, withDestinationURL: outside.appendingPathComponent("model.onnx.data"))
    let r = Driver.run(["check", dir.appendingPathComponent("model.onnx").path])
    #expect(r.exitCode == 1 && r.stderr.contains("it is a symbolic link, which grucc does not follow out of a model's folder"), "\(r.stderr)")
  }

  @Test func aFifoOrADirectoryIsNotADataFile() throws {
    let dir = try copied("fifo")
    defer { try? FileManager.default.removeItem(at: dir) }
    let data = dir.appendingPathComponent("model.onnx.data")
    try FileManager.default.removeItem(at: data)
    #expect(mkfifo(data.path, 0o600) == 0)
    let fifo = Driver.run(["check", dir.appendingPathComponent("model.onnx").path])
    #expect(fifo.exitCode == 1 && fifo.stderr.contains("'model.onnx.data': it is not a regular file"), "\(fifo.stderr)")
    try FileManager.default.removeItem(at: data)
    try FileManager.default.createDirectory(at: data, withIntermediateDirectories: false)
    let folder = Driver.run(["check", dir.appendingPathComponent("model.onnx").path])
    #expect(folder.exitCode == 1 && folder.stderr.contains("'model.onnx.data': it is not a regular file"), "\(folder.stderr)")
  }

  /// A model whose W is in `location`, next to which the test puts the bytes.
  func modelWithExternalWeights(location: String, offset: Int = 0) -> (model: [UInt8], bytes: [UInt8]) {
    var g = OnnxGraphBuilder()
    g.gru()
    g.output("gru_Y")
    // Replace W (the first float initializer, [1, 9, 2]) by an external reference.
    let w = (0..<18).map { Float($0) / 18 }
    let bytes = [UInt8](repeating: 0, count: offset) + w.flatMap { PB.le(UInt64($0.bitPattern), 4) }
    var tensor = ONNX.tensor("f_2", 1, dims: [1, 9, 2])
    for (k, v) in [("location", location), ("offset", String(offset)), ("length", "72")] {
      tensor = tensor.message(13, PB().string(1, k).string(2, v))
    }
    g.initializers[0] = tensor.int(14, 1)
    return (g.model(), bytes)
  }

  @Test func dataInASubfolderIsReadAndAFolderLinkLeadingOutIsRefused() throws {
    let dir = try EndToEnd.temporaryDirectory("external-subfolder")
    let outside = try EndToEnd.temporaryDirectory("external-outside")
    defer {
      try? FileManager.default.removeItem(at: dir)
      try? FileManager.default.removeItem(at: outside)
    }
    let (model, bytes) = modelWithExternalWeights(location: "weights/w.bin", offset: 16)
    let path = dir.appendingPathComponent("m.onnx").path
    try Data(model).write(to: URL(fileURLWithPath: path))
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("weights"), withIntermediateDirectories: false)
    try Data(bytes).write(to: dir.appendingPathComponent("weights/w.bin"))
    let ok = Driver.run(["check", path])
    #expect(ok.exitCode == 0, "\(ok.stderr)")
    // The same folder name, now a link to a folder elsewhere.
    try FileManager.default.removeItem(at: dir.appendingPathComponent("weights"))
    try Data(bytes).write(to: outside.appendingPathComponent("w.bin"))
    try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("weights"), withDestinationURL: outside)
    let out = Driver.run(["check", path])
    #expect(out.exitCode == 1 && out.stderr.contains("its folder is a symbolic link that leads out of the model's folder"), "\(out.stderr)")
  }

  @Test func locationsLeavingTheFolderAreRefusedBeforeAnyFileIsOpened() throws {
    let dir = try EndToEnd.temporaryDirectory("external-escape")
    defer { try? FileManager.default.removeItem(at: dir) }
    for (location, reason) in [("../w.bin", "which leaves the folder through '..'"), ("/etc/passwd", "an absolute path")] {
      let path = dir.appendingPathComponent("m.onnx").path
      try Data(modelWithExternalWeights(location: location).model).write(to: URL(fileURLWithPath: path))
      let r = Driver.run(["check", path])
      #expect(r.exitCode == 1 && r.stderr.contains("tensor 'f_2' has external data location '\(location)', \(reason)"), "\(r.stderr)")
    }
  }
}
