// The progress lines of `grucc train`, with the speed and the time left when there is a clock.

import Foundation

/// The progress lines: `step N/TOTAL  train LOSS  valid LOSS` at each evaluation (returned for
/// stdout, or written at once through the ProgressOutput), and a live status line on a terminal.
/// With a clock, both also show the steps per second over the last few seconds and the time
/// left at that rate; without one the lines are the same run to run.
struct ProgressReporter {
  let total: Int
  let output: ProgressOutput?
  private let clock: (@Sendable () -> Double)?
  private var statusShown = false
  /// (step, seconds) samples a quarter of a second or more apart, the oldest within `window` of now.
  private var samples: [(step: Int, time: Double)] = []
  static let window = 10.0

  /// `start`: the step the run starts from (a resumed run's checkpoint).
  init(total: Int, start: Int = 0, output: ProgressOutput?) {
    self.total = total
    self.output = output
    clock = output?.clock
    if let clock { samples = [(start, clock())] }
  }

  /// The line for stdout, unless it was written already.
  mutating func handle(_ event: TrainingEvent) -> String? {
    switch event {
    case .evaluated(let r):
      let width = String(total).count
      let step = String(repeating: " ", count: max(0, width - String(r.step).count)) + String(r.step)
      let line = "step \(step)/\(total)  train \(Self.format(r.train))" + (r.valid.map { "  valid \(Self.format($0))" } ?? "")
        + speed(at: r.step) + "\n"
      guard let output else { return line }
      clearStatus()
      output.line(line)
      return nil
    case .step(let step, let batchLoss):
      sample(step)
      // At most about 200 redraws, however fast the steps.
      guard let status = output?.status, step % max(1, total / 200) == 0 || step == total else { return nil }
      status("\r\u{1B}[Kstep \(step)/\(total)  batch loss \(Self.format(batchLoss))" + speed(at: step))
      statusShown = true
      return nil
    }
  }

  mutating func finish() { clearStatus() }

  private mutating func clearStatus() {
    if statusShown { output?.status?("\r\u{1B}[K") }
    statusShown = false
  }

  private mutating func sample(_ step: Int) {
    guard let now = clock?(), let last = samples.last else { return }
    if now - last.time >= 0.25 { samples.append((step, now)) } else { samples[samples.count - 1].step = step }
    // Keep one sample at or before the window's start, so the rate always spans the window.
    while samples.count > 2, now - samples[1].time >= Self.window { samples.removeFirst() }
  }

  /// `  812 steps/s  ETA 6 s` from the oldest sample to `step`; empty without a clock or steps.
  private func speed(at step: Int) -> String {
    guard let now = clock?(), let oldest = samples.first, step > oldest.step, now > oldest.time else { return "" }
    let rate = Double(step - oldest.step) / (now - oldest.time)
    return "  \(Self.rate(rate)) steps/s" + (step < total ? "  ETA \(Self.duration(Double(total - step) / rate))" : "")
  }

  static func format(_ loss: Double) -> String { String(format: "%.6g", loss) }

  /// Three significant digits, never an exponent: 812, 45.3, 4.52, 0.0123.
  static func rate(_ r: Double) -> String { r >= 100 ? String(Int(r.rounded())) : String(format: "%.3g", r) }

  /// Whole seconds, minutes or hours as fits: `6 s`, `3 min 20 s`, `2 h 5 min`.
  static func duration(_ seconds: Double) -> String {
    let s = Int(min(seconds, 1e9).rounded(.up))
    if s < 60 { return "\(s) s" }
    if s < 3600 { return "\(s / 60) min \(s % 60) s" }
    return "\(s / 3600) h \(s % 3600 / 60) min"
  }
}
