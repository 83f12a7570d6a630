// `-MD` / `-MF FILE`: the Make rule grucc writes beside the C. It must name every file the compile
// read (the model, its weights, an ONNX model's external data), escape what Make would misread,
// be written with the outputs or not at all, and be the same bytes on every run.

import Foundation
import Testing

@testable import GruccCore

@Suite struct DepfileTests {
  func text(_ s: String) -> [UInt8] { Array(s.utf8) }

  func read(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
  }

  func inDirectory(_ files: [String: [UInt8]], _ body: (String) throws -> Void) throws {
    try withScratchDirectory { dir in
      for (name, bytes) in files {
        #expect(FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data(bytes)))
      }
      try body(dir)
    }
  }

  /// A model that reads a weights file, and that file.
  static let withWeights: [String: [UInt8]] = [
    "m.gru": Array(SemaTests.tiny("weights \"w.safetensors\"").utf8),
    "w.safetensors": Safetensors.write(SemaTests.tinyTensors { _ in }),
  ]

  // MARK: - Make syntax

  @Test func aRuleNamesItsTargetsThenOnePrerequisitePerLine() {
    let rule = Depfile.text(targets: ["out.c", "out.h"], prerequisites: ["m.gru", "w.safetensors"])
    #expect(rule == "out.c out.h: \\\n  m.gru \\\n  w.safetensors\n")
  }

  @Test(arguments: [
    ("plain/path.gru", "plain/path.gru"),
    ("my model.gru", "my\\ model.gru"),
    ("a#b", "a\\#b"),
    ("cost$1", "cost$$1"),
    ("back\\slash", "back\\slash"),
    ("dir\\ x", "dir\\\\\\ x"),
  ])
  func pathsAreEscapedAsMakeReadsThem(path: String, escaped: String) {
    #expect(Depfile.escape(path) == escaped)
  }

  @Test func aLineBreakInAPathCannotBeWritten() {
    #expect(Depfile.escape("a\nb") == nil)
    #expect(Depfile.text(targets: ["out.c"], prerequisites: ["a\rb"]) == nil)
  }

  // MARK: - Options

  @Test func theOptionsParse() throws {
    guard case .compile(let md) = try Options.parse(["m.gru", "-MD", "-o", "x.c"]) else { throw Failure() }
    #expect(md.depfile == .besideOutput)
    guard case .compile(let mf) = try Options.parse(["m.gru", "-MD", "-MF", "deps/x.d"]) else { throw Failure() }
    #expect(mf.depfile == .file("deps/x.d"))
    guard case .compile(let none) = try Options.parse(["m.gru"]) else { throw Failure() }
    #expect(none.depfile == nil)
  }

  @Test func aDepfileDoesNotGoWithEmit() {
    let r = Driver.run(["m.gru", "-MD", "--emit", "ir"])
    #expect(r.exitCode == 1)
    #expect(r.stderr.contains("'-MD' and '-MF' describe the C grucc writes; they do not go with '--emit'"), "\(r.stderr)")
    let missing = Driver.run(["m.gru", "-MF"])
    #expect(missing.stderr.contains("option '-MF' needs a value"), "\(missing.stderr)")
  }

  struct Failure: Error {}

  // MARK: - Compiling

  @Test func mdWritesTheRuleBesideTheC() throws {
    try inDirectory(Self.withWeights) { dir in
      let r = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c", "-MD"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(read("\(dir)/out.c.d") == "\(dir)/out.c \(dir)/out.h: \\\n  \(dir)/m.gru \\\n  \(dir)/w.safetensors\n")
    }
  }

  @Test func mfPutsItWhereItSaysAndWeightsExternalAddsTheBlob() throws {
    try inDirectory(Self.withWeights) { dir in
      let r = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c", "--weights", "external", "-MF", "\(dir)/deps.d"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(read("\(dir)/deps.d")?.hasPrefix("\(dir)/out.c \(dir)/out.h \(dir)/out.weights: \\\n  \(dir)/m.gru") == true)
      #expect(!FileManager.default.fileExists(atPath: "\(dir)/out.c.d"))
    }
  }

  @Test func aModelWithoutAWeightsFileDependsOnItselfOnly() throws {
    try inDirectory(["m.gru": text(CLITests.adder)]) { dir in
      #expect(Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c", "-MD"]).exitCode == 0)
      #expect(read("\(dir)/out.c.d") == "\(dir)/out.c \(dir)/out.h: \\\n  \(dir)/m.gru\n")
    }
  }

  @Test func pathsWithSpacesAreEscapedInTheFile() throws {
    try inDirectory([:]) { dir in
      let sub = "\(dir)/my models"
      try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
      for (name, bytes) in Self.withWeights { _ = FileManager.default.createFile(atPath: "\(sub)/\(name)", contents: Data(bytes)) }
      #expect(Driver.run(["\(sub)/m.gru", "-o", "\(sub)/out.c", "-MD"]).exitCode == 0)
      let e = "\(dir)/my\\ models"
      #expect(read("\(sub)/out.c.d") == "\(e)/out.c \(e)/out.h: \\\n  \(e)/m.gru \\\n  \(e)/w.safetensors\n")
    }
  }

  @Test func anOnnxModelDependsOnItsExternalData() throws {
    let source = FrameworkFixture.root.appendingPathComponent("onnx_dynamo_fixed")
    try inDirectory([:]) { dir in
      for f in ["model.onnx", "model.onnx.data"] {
        try FileManager.default.copyItem(atPath: source.appendingPathComponent(f).path, toPath: "\(dir)/\(f)")
      }
      let r = Driver.run(["\(dir)/model.onnx", "-o", "\(dir)/kws.c", "-MD"])
      #expect(r.exitCode == 0, "\(r.stderr)")
      #expect(read("\(dir)/kws.c.d") == "\(dir)/kws.c \(dir)/kws.h: \\\n  \(dir)/model.onnx \\\n  \(dir)/model.onnx.data\n")
    }
  }

  @Test func theSameCompileWritesTheSameBytes() throws {
    try inDirectory(Self.withWeights) { dir in
      #expect(Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c", "-MD"]).exitCode == 0)
      let first = read("\(dir)/out.c.d")
      #expect(Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c", "-MD"]).exitCode == 0)
      #expect(first != nil && read("\(dir)/out.c.d") == first)
    }
  }

  @Test func aFailingCompileLeavesTheOldRuleAlone() throws {
    var files = Self.withWeights
    files["w.safetensors"] = text("garbage")
    files["out.c.d"] = text("old rule\n")
    try inDirectory(files) { dir in
      let r = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c", "-MD"])
      #expect(r.exitCode == 1)
      #expect(read("\(dir)/out.c.d") == "old rule\n")
      #expect(!FileManager.default.fileExists(atPath: "\(dir)/out.c"))
    }
  }

  @Test func theRuleMayNotReplaceAnOutputOrTheModel() throws {
    try inDirectory(Self.withWeights) { dir in
      let onHeader = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c", "-MF", "\(dir)/out.h"])
      #expect(onHeader.exitCode == 1)
      #expect(onHeader.stderr == "grucc: error: the dependency file '\(dir)/out.h' would overwrite the output '\(dir)/out.h'\n")
      let onModel = Driver.run(["\(dir)/m.gru", "-o", "\(dir)/out.c", "-MF", "\(dir)/m.gru"])
      #expect(onModel.exitCode == 1)
      #expect(onModel.stderr.contains("would overwrite the input file"), "\(onModel.stderr)")
      #expect(!FileManager.default.fileExists(atPath: "\(dir)/out.c"))
    }
  }
}
