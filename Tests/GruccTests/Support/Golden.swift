// The golden-file harness: finds the cases under Tests/Golden, runs each RUN line through the
// Driver in-process, and compares whole texts with a line diff (GRUCC_UPDATE_GOLDEN=1 rewrites).

import Foundation
import Testing

@testable import GruccCore

/// One `.gru` file under Tests/Golden with its RUN lines.
///
/// A case's first lines are `# RUN: grucc <arguments>`; `%s` stands for the case's path relative
/// to the repository root, `%S` for its folder and `%t` for a fresh temporary directory (printed
/// back as `%t`). Each RUN line has one expected file beside the case, `<name>.<kind>.expected`,
/// where the kind comes from the arguments (`ast`, `ir`, `after-<pass>.ir`, `check`, `stderr`...).
/// The file holds the run's standard output; if the run wrote to standard error or failed, the
/// error text follows (after a `[stderr]` line when there was output too) and then
/// `[exit status N]`.
struct GoldenCase: Sendable, CustomTestStringConvertible {
  struct Run: Sendable {
    var arguments: [String]
    var kind: String
  }

  /// `ast`, `diagnostics`...
  var folder: String
  /// The file name without `.gru`: a sentence about what the case shows.
  var name: String
  /// Relative to the repository root, as the Driver is given it.
  var path: String
  var runs: [Run]
  /// Why the case cannot run (no RUN line, two runs with one expected file).
  var problem: String?

  var testDescription: String { "\(folder)/\(name)" }

  func expectedPath(_ run: Run) -> String { "\(Golden.directory)/\(folder)/\(name).\(run.kind).expected" }
}

enum Golden {
  /// The repository root: the nearest folder above this file that holds Package.swift.
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
      url = url.deletingLastPathComponent()
    }
    return url.path
  }()

  static let directory = root + "/Tests/Golden"

  static var updating: Bool { ProcessInfo.processInfo.environment["GRUCC_UPDATE_GOLDEN"] == "1" }

  /// Cases are run with paths relative to the root, so the process must stand there. Every other
  /// test uses absolute paths, so moving the whole process once is harmless.
  static let enterRoot: Void = {
    if FileManager.default.currentDirectoryPath != root {
      precondition(FileManager.default.changeCurrentDirectoryPath(root), "cannot enter \(root)")
    }
    if updating { GoldenFixtures.write() }
  }()

  // MARK: - Finding cases

  /// Every case in `folders`, sorted by path so the test list is stable.
  static func cases(in folders: [String]) -> [GoldenCase] {
    folders.flatMap { folder -> [GoldenCase] in
      let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/\(folder)")) ?? []
      var files = Set(names.filter { $0.hasSuffix(".gru") })
      // Generated sources (bad bytes, an empty file) are cases even before they are written.
      for f in GoldenFixtures.files where f.path.hasPrefix("\(folder)/") && f.path.hasSuffix(".gru") {
        files.insert(String(f.path.dropFirst(folder.count + 1)))
      }
      return files.sorted().map { load(folder: folder, file: $0) }
    }
  }

  private static func load(folder: String, file: String) -> GoldenCase {
    let name = String(file.dropLast(4))
    let path = "Tests/Golden/\(folder)/\(file)"
    let bytes =
      FileManager.default.contents(atPath: "\(root)/\(path)").map { [UInt8]($0) }
      ?? GoldenFixtures.files.first { $0.path == "\(folder)/\(file)" }?.bytes ?? []
    var lines = runLines(bytes)
    if lines.isEmpty, let implicit = GoldenFixtures.runLines["\(folder)/\(file)"] { lines = implicit }
    var c = GoldenCase(folder: folder, name: name, path: path, runs: [])
    guard !lines.isEmpty else {
      c.problem = "\(path) has no '# RUN: grucc ...' first line"
      return c
    }
    for line in lines {
      let words = line.split(separator: " ").map(String.init)
      let arguments = words.map {
        $0.replacingOccurrences(of: "%s", with: path)
          .replacingOccurrences(of: "%S", with: "Tests/Golden/\(folder)")
      }
      let run = GoldenCase.Run(arguments: arguments, kind: kind(of: arguments))
      if c.runs.contains(where: { $0.kind == run.kind }) {
        c.problem = "\(path): two RUN lines write \(name).\(run.kind).expected"
      }
      c.runs.append(run)
    }
    return c
  }

  /// The argument text of the RUN lines at the top of a file.
  static func runLines(_ bytes: [UInt8]) -> [String] {
    let prefix = "# RUN: grucc"
    var result: [String] = []
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      let text = String(decoding: line, as: UTF8.self)
      guard text.hasPrefix(prefix) else { break }
      result.append(text.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces))
    }
    return result
  }

  /// The expected file's kind, from what the arguments ask grucc to print.
  static func kind(of arguments: [String]) -> String {
    if arguments.contains("--help") { return "help" }
    switch arguments.first {
    case "run": return "run"
    case "check": return "check"
    case "--help", "-h", "help": return "help"
    case "--version": return "version"
    default: break
    }
    var emit: String?
    for (i, a) in arguments.enumerated() {
      if a == "--emit", i + 1 < arguments.count { emit = arguments[i + 1] }
      if a.hasPrefix("--emit=") { emit = String(a.dropFirst("--emit=".count)) }
    }
    if arguments.contains("--print-ir-after-all") { return "ir-after-all" }
    switch emit {
    case let e? where e.hasPrefix("ir-after="): return "after-\(e.dropFirst("ir-after=".count)).ir"
    case let e? where ["tokens", "ast", "ir", "c", "h", "gradient-ir"].contains(e): return e
    default: return "stderr"
    }
  }

  // MARK: - Running and comparing

  /// Runs one RUN line in a fresh temporary directory and renders what it printed.
  static func output(of run: GoldenCase.Run) throws -> String {
    _ = enterRoot
    let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-golden-\(UUID().uuidString)")
      .path
    try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: temporary) }
    let result = Driver.run(run.arguments.map { $0.replacingOccurrences(of: "%t", with: temporary) })
    return render(result).replacingOccurrences(of: temporary, with: "%t")
  }

  static func render(_ result: DriverResult) -> String {
    var text = result.stdout
    if !result.stderr.isEmpty || result.exitCode != 0 {
      if !text.isEmpty { text += "[stderr]\n" }
      text += result.stderr + "[exit status \(result.exitCode)]\n"
    }
    return text
  }

  /// Compares `actual` with the expected file (or rewrites it in update mode).
  static func check(_ actual: String, against path: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let relative = String(path.dropFirst(root.count + 1))
    if updating {
      if FileManager.default.contents(atPath: path) != Data(actual.utf8) {
        #expect(FileManager.default.createFile(atPath: path, contents: Data(actual.utf8)), "cannot write \(relative)")
      }
      return
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      Issue.record("\(relative) is missing; run GRUCC_UPDATE_GOLDEN=1 swift test", sourceLocation: sourceLocation)
      return
    }
    let expected = String(decoding: data, as: UTF8.self)
    if expected != actual {
      let diff = lineDiff(expected, actual)
      Issue.record(
        "\(relative) differs (- expected, + actual); GRUCC_UPDATE_GOLDEN=1 swift test rewrites it\n\(diff)",
        sourceLocation: sourceLocation)
    }
  }

  /// A unified-style diff of two texts by lines, with two lines of context around each change.
  static func lineDiff(_ a: String, _ b: String) -> String {
    let x = a.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let y = b.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    // Longest common subsequence table, from the ends; the texts are at most a few hundred lines.
    var lcs = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in stride(from: x.count - 1, through: 0, by: -1) {
      for j in stride(from: y.count - 1, through: 0, by: -1) {
        lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
      }
    }
    var lines: [(Character, String)] = []
    var (i, j) = (0, 0)
    while i < x.count || j < y.count {
      if i < x.count, j < y.count, x[i] == y[j] {
        lines.append((" ", x[i]))
        (i, j) = (i + 1, j + 1)
      } else if i < x.count, j == y.count || lcs[i + 1][j] >= lcs[i][j + 1] {
        lines.append(("-", x[i]))
        i += 1
      } else {
        lines.append(("+", y[j]))
        j += 1
      }
    }
    let changed = lines.indices.filter { lines[$0].0 != " " }
    var out = ""
    var lastPrinted = -1
    for k in lines.indices where changed.contains(where: { abs($0 - k) <= 2 }) {
      if lastPrinted >= 0 && k > lastPrinted + 1 { out += "  ...\n" }
      out += "\(lines[k].0) \(lines[k].1)\n"
      lastPrinted = k
    }
    return out
  }
}
