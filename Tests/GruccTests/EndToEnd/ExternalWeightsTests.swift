// `--weights external`: the C takes its weights as a blob at run time. Every Spec and option model
// computes with the blob what it computes with the weights compiled in (against the interpreter
// and the reference), and a blob that is not the model's, is damaged, short, misaligned or
// missing is refused before anything is read or written.

import Foundation
import Testing

@testable import GruccCore

@Suite struct ExternalWeightsTests {
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: EndToEnd.specNames)
  func specComputesTheSameFromItsBlob(spec: String) throws {
    let model = try #require(SpecTests.descriptions[spec])
    var check = DifferentialCheck(
      modelPath: EndToEnd.specPath(spec), model: model, cases: EndToEnd.cases(for: model, seed: 4242, steps: [1, 7, 40]))
    check.externalWeights = true
    let table = try check.run()
    print("external weights \(spec): \(table.summary)")
  }

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: ["initial_bidir", "heads_all", "unshared_fixed"])
  func optionModelComputesTheSameFromItsBlob(name: String) throws {
    let index = try #require(OptionCoverageTests.modelNames.firstIndex(of: name))
    let model = OptionCoverageTests.models[index]
    let dir = try EndToEnd.temporaryDirectory("external-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try OptionCoverageTests.gruText(model, seed: 9).write(toFile: path, atomically: false, encoding: .utf8)
    var check = DifferentialCheck(modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: 99))
    check.externalWeights = true
    let table = try check.run()
    print("external weights \(name): \(table.summary)")
  }

  /// The blob as LANGUAGE-independent bytes: header words, 16-byte aligned tensors, the data's CRC.
  @Test func blobHeaderDescribesItsData() throws {
    let module = try #require(InProcess.optimised(String(contentsOfFile: EndToEnd.specPath("seed001-adder"), encoding: .utf8)))
    let layout = WeightLayout(module)
    let blob = layout.blob(module)
    #expect(blob.count == layout.bytes)
    func word(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(blob[4 * i + $1]) << (8 * UInt32($1)) } }
    #expect(Array(blob[0..<4]) == Array("GRUW".utf8))
    #expect(word(1) == 1 && word(2) == 8 && Int(word(3)) == layout.values && word(4) == layout.checksum)
    #expect(word(5) == CRC32.checksum(blob[WeightLayout.headerBytes...]))
    for p in module.parameters {
      let at = try #require(layout.offsets[p.name])
      #expect((WeightLayout.headerBytes + at * 8) % 16 == 0, "\(p.name) is not 16-byte aligned")
      let first = (0..<8).reduce(UInt64(0)) { $0 | UInt64(blob[WeightLayout.headerBytes + at * 8 + $1]) << (8 * UInt64($1)) }
      #expect(Double(bitPattern: first) == p.values[0], "\(p.name)'s first value")
    }
    // Another model's layout, or the same model in another precision, has another checksum.
    let other = try #require(InProcess.optimised(String(contentsOfFile: EndToEnd.specPath("seed000-gru"), encoding: .utf8)))
    #expect(WeightLayout(other).checksum != layout.checksum)
  }

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func badBlobsAreRefusedWithoutTouchingTheOutputs() throws {
    let dir = try EndToEnd.temporaryDirectory("external-refusals")
    defer { try? FileManager.default.removeItem(at: dir) }
    let adder = dir.appendingPathComponent("adder.c").path
    let other = dir.appendingPathComponent("other.c").path
    var result = Driver.run([EndToEnd.specPath("seed001-adder"), "-o", adder, "--weights", "external"])
    try #require(result.exitCode == 0, "\(result.stderr)")
    result = Driver.run([EndToEnd.specPath("seed002-tf1-gru-cell"), "-o", other, "--weights", "external"])
    try #require(result.exitCode == 0, "\(result.stderr)")
    let main = dir.appendingPathComponent("main.c").path
    try """
      #include <stdio.h>
      #include <stdlib.h>
      #include <string.h>
      #include "adder.h"

      static unsigned char *load(const char *path, size_t *bytes) {
          FILE *f = fopen(path, "rb");
          unsigned char *p;
          long n;
          if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) exit(3);
          p = (unsigned char *)malloc((size_t)n + 64);
          if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) exit(3);
          fclose(f);
          *bytes = (size_t)n;
          return p;
      }

      /* run_batch on 3 steps; 0 when it returns `want` and, on an error, leaves y untouched. */
      static int run(const void *weights, int want) {
          double x[6] = {1, 0, 1, 1, 0, 1}, y[3] = {-7, -7, -7}, scratch[ADDER_SCRATCH_SIZE(1, 3)];
          int status = adder_run_batch(weights, x, 1, 3, y, scratch);
          if (status != want) return 1;
          return status == ADDER_OK ? 0 : !(y[0] == -7 && y[1] == -7 && y[2] == -7);
      }

      int main(int argc, char **argv) {
          size_t bytes, other_bytes;
          unsigned char *blob = load(argv[1], &bytes), *other = load(argv[2], &other_bytes);
          unsigned char *shifted = (unsigned char *)malloc(bytes + 8);
          int failures = 0;
          (void)argc;
          failures += adder_check_weights(blob, bytes) != ADDER_OK;
          failures += run(blob, ADDER_OK);
          failures += adder_check_weights(blob, bytes - 1) != ADDER_ERROR_WEIGHTS;      /* short */
          failures += adder_check_weights(NULL, bytes) != ADDER_ERROR_WEIGHTS;          /* missing */
          failures += run(NULL, ADDER_ERROR_WEIGHTS);
          failures += adder_check_weights(other, other_bytes) != ADDER_ERROR_WEIGHTS;  /* another model's */
          failures += run(other, ADDER_ERROR_WEIGHTS);
          memcpy(shifted + 4, blob, bytes);                                            /* misaligned */
          failures += adder_check_weights(shifted + 4, bytes) != ADDER_ERROR_WEIGHTS;
          failures += run(shifted + 4, ADDER_ERROR_WEIGHTS);
          blob[bytes - 1] ^= 1;                                                        /* a damaged weight */
          failures += adder_check_weights(blob, bytes) != ADDER_ERROR_WEIGHTS;
          blob[bytes - 1] ^= 1;
          blob[16] ^= 1;                                                               /* another layout */
          failures += adder_check_weights(blob, bytes) != ADDER_ERROR_WEIGHTS;
          failures += run(blob, ADDER_ERROR_WEIGHTS);
          blob[16] ^= 1;
          failures += adder_check_weights(blob, bytes) != ADDER_OK;
          printf("%d\\n", failures);
          free(blob);
          free(other);
          free(shifted);
          return failures != 0;
      }

      """.write(toFile: main, atomically: false, encoding: .utf8)
    let clang = try #require(Clang.compiler)
    let binary = dir.appendingPathComponent("refusals").path
    let built = try clang.compile(CCompiler.strictC + ["-O1", "-I", dir.path, adder, main, "-o", binary, "-lm"])
    try #require(built.succeeded, "\(built.summary)")
    let ran = try ProcessRunner.run(
      binary, [dir.appendingPathComponent("adder.weights").path, dir.appendingPathComponent("other.weights").path])
    #expect(ran.succeeded && ran.stdout == "0\n", "\(ran.summary)")
  }
}
