// `grucc check MODEL.gru [--json]`: what the model is, what it holds and what it costs. A weights
// file that does not exist yet is a warning here, not an error: the report then lists the tensors
// the file must hold, which is when a user needs them.

extension Driver {
  mutating func check(_ path: String, json: Bool) throws(DriverError) {
    let front = try frontEnd(path)
    // The report needs the weights' shapes, not their values: init rules are checked, not drawn.
    let module = try optimise(front, materialise: false, initRulesIfMissing: true)
    stdout += json ? ModelReport.json(front: front, optimised: module) : ModelReport.text(front: front, optimised: module)
  }
}
