// add A B: adds two numbers below 2^20 with seed 001's GRU adder, one bit of each per step,
// through the C grucc generated from Sources/Adder/adder.gru. Prints the sum, then the model's
// output at every step, which the tests compare with `grucc run`.
import Adder
import Foundation

let bits = 21
let arguments = CommandLine.arguments.dropFirst().compactMap { UInt($0) }
guard arguments.count == 2 else {
  print("usage: add A B")
  exit(2)
}
let (a, b) = (arguments[0], arguments[1])
var x = [Double](repeating: 0, count: bits * 2)
for t in 0..<bits {
  x[2 * t] = Double((a >> t) & 1)
  x[2 * t + 1] = Double((b >> t) & 1)
}
var y = [Double](repeating: 0, count: bits)
var scratch = [Double](repeating: 0, count: adder_scratch_values(1, Int32(bits)))
guard adder_run(x, Int32(bits), &y, &scratch) == ADDER_OK else { exit(1) }
var sum: UInt = 0
for t in 0..<bits where y[t] > 0.5 { sum |= 1 << t }
print("\(a) + \(b) = \(sum)")
for v in y { print(v) }
