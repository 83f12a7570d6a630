// `grucc check MODEL.gru [--json]`: what the model is, what it holds and what it costs. The
// report lists the tensors a weights file must hold, which is what a user needs when the file is
// not right yet: a file that does not exist is a warning here, and a file that exists but does
// not fit still gets the report (after its errors, with exit status 1).

extension Driver {
  mutating func check(_ path: String, json: Bool) throws(DriverError) {
    let front = try frontEnd(path)
    // The report needs the weights' shapes, not their values: init rules are checked, not drawn.
    do throws(DriverError) {
      let module = try optimise(front, materialise: false, initRulesIfMissing: true)
      stdout += report(front, module, json: json)
    } catch .reported where front.model?.weights != nil {
      // The shapes without the file, its errors already printed.
      var bare = front
      bare.model?.weights = nil
      guard let model = bare.model, let module = bare.module else { throw .reported }
      let shapes = Compiler.optimise(
        module, weights: Compiler.weightSource(for: model, file: nil), budget: budget, materialise: false)
      if case .success(let m) = shapes.result { stdout += report(bare, m, json: json) }
      throw .reported
    }
  }

  private func report(_ front: FrontEnd, _ module: Module, json: Bool) -> String {
    json ? ModelReport.json(front: front, optimised: module) : ModelReport.text(front: front, optimised: module)
  }
}
