import Foundation

/// The array names and shapes of weights, gradients and batches in `.npz` files (documented
/// in Documentation/LearningRules.md).
public enum NetworkArrays {
    /// Reads weights: `input_weights` (N, I), `output_weights` (C, N) and, optionally,
    /// `recurrent_weights` (N, N), `bias` (N,) and `output_bias` (C,). The network's shape
    /// follows from them; a missing `output_bias` is zero.
    public static func readWeights<T: KernelScalar>(_ arrays: [String: NumPyArray], file: String, readoutDecay: Double) throws -> (NetworkShape, ParameterSet<T>) {
        let input = try require("input_weights", in: arrays, file: file, rank: 2)
        let output = try require("output_weights", in: arrays, file: file, rank: 2)
        let hidden = input.shape[0], inputs = input.shape[1], outputs = output.shape[0]
        guard output.shape[1] == hidden else {
            throw PlasticityError.shapeMismatch(name: "output_weights", expected: "(C, \(hidden)) to match input_weights (\(hidden), \(inputs))", found: "\(output.shape)")
        }
        let recurrent = arrays["recurrent_weights"], bias = arrays["bias"]
        let shape = NetworkShape(inputs: inputs, hidden: hidden, outputs: outputs, recurrent: recurrent != nil, bias: bias != nil, readoutDecay: readoutDecay)
        try shape.validate()
        var parameters = ParameterSet<T>(zerosFor: shape)
        parameters.inputWeights = input.doubles.map { T($0) }
        parameters.outputWeights = output.doubles.map { T($0) }
        if let recurrent {
            try check("recurrent_weights", recurrent, [hidden, hidden])
            parameters.recurrentWeights = recurrent.doubles.map { T($0) }
        }
        if let bias {
            try check("bias", bias, [hidden])
            parameters.bias = bias.doubles.map { T($0) }
        }
        if let outputBias = arrays["output_bias"] {
            try check("output_bias", outputBias, [outputs])
            parameters.outputBias = outputBias.doubles.map { T($0) }
        }
        if let bad = parameters.firstNonFiniteTensor {
            throw PlasticityError.malformedArray(name: bad, reason: "contains NaN or infinite values")
        }
        return (shape, parameters)
    }

    /// Weights or gradients as arrays (absent tensors are left out).
    public static func arrays<T: KernelScalar>(of parameters: ParameterSet<T>, shape: NetworkShape) -> [String: NumPyArray] {
        var result: [String: NumPyArray] = [
            "input_weights": array(parameters.inputWeights, [shape.hidden, shape.inputs]),
            "output_weights": array(parameters.outputWeights, [shape.outputs, shape.hidden]),
            "output_bias": array(parameters.outputBias, [shape.outputs]),
        ]
        if shape.recurrent { result["recurrent_weights"] = array(parameters.recurrentWeights, [shape.hidden, shape.hidden]) }
        if shape.bias { result["bias"] = array(parameters.bias, [shape.hidden]) }
        return result
    }

    /// A batch: `inputs` (T, B, I) and the loss's targets — `labels` (T, B) or (B,) integers,
    /// or `targets` (T, B, C) — and optionally `mask` (T, B).
    public static func readBatch<T: KernelScalar>(_ arrays: [String: NumPyArray], file: String, shape: NetworkShape,
                                                  lossKind requested: LossKind?) throws -> (inputs: [T], steps: Int, batch: Int, loss: Loss<T>) {
        let inputs = try require("inputs", in: arrays, file: file, rank: 3)
        let steps = inputs.shape[0], batch = inputs.shape[1]
        guard inputs.shape[2] == shape.inputs else {
            throw PlasticityError.shapeMismatch(name: "inputs", expected: "(T, B, \(shape.inputs)) to match the weights", found: "\(inputs.shape)")
        }
        let values = inputs.doubles
        if let bad = values.first(where: { !$0.isFinite }) {
            throw PlasticityError.malformedArray(name: "inputs", reason: "contains \(bad)")
        }
        let kind = try requested ?? inferredLoss(arrays)
        var mask: [T]?
        if let maskArray = arrays["mask"] {
            try check("mask", maskArray, [steps, batch])
            mask = maskArray.doubles.map { T($0) }
        }
        let loss: Loss<T>
        switch kind {
        case .meanSquaredError:
            let targets = try require("targets", in: arrays, file: file, rank: 3)
            try check("targets", targets, [steps, batch, shape.outputs])
            loss = try Loss(kind, steps: steps, batch: batch, outputs: shape.outputs, targets: targets.doubles.map { T($0) }, mask: mask)
        case .crossEntropyEveryStep:
            let labels = try require("labels", in: arrays, file: file, rank: 2)
            try check("labels", labels, [steps, batch])
            loss = try Loss(kind, steps: steps, batch: batch, outputs: shape.outputs, labels: labels.integers(name: "labels"), mask: mask)
        case .crossEntropyLastStep, .crossEntropySummed:
            let labels = try require("labels", in: arrays, file: file, rank: 1)
            try check("labels", labels, [batch])
            loss = try Loss(kind, steps: steps, batch: batch, outputs: shape.outputs, labels: labels.integers(name: "labels"))
        }
        return (values.map { T($0) }, steps, batch, loss)
    }

    /// `targets` → MSE; per-step `labels` → cross-entropy at every step; per-sequence `labels` →
    /// cross-entropy of the time-summed readout.
    static func inferredLoss(_ arrays: [String: NumPyArray]) throws -> LossKind {
        if arrays["targets"] != nil { return .meanSquaredError }
        if let labels = arrays["labels"] { return labels.shape.count == 2 ? .crossEntropyEveryStep : .crossEntropySummed }
        throw PlasticityError.invalidConfiguration("the batch file has neither 'labels' nor 'targets'; the loss needs one of them")
    }

    private static func array<T: KernelScalar>(_ values: [T], _ shape: [Int]) -> NumPyArray {
        T.self == Double.self ? NumPyArray(values.map { Double($0) }, shape: shape) : NumPyArray(values.map { Float($0) }, shape: shape)
    }

    private static func require(_ name: String, in arrays: [String: NumPyArray], file: String, rank: Int) throws -> NumPyArray {
        guard let array = arrays[name] else { throw PlasticityError.missingArray(name: name, file: file) }
        guard array.shape.count == rank else {
            throw PlasticityError.shapeMismatch(name: name, expected: "\(rank) dimensions", found: "\(array.shape)")
        }
        return array
    }

    private static func check(_ name: String, _ array: NumPyArray, _ expected: [Int]) throws {
        guard array.shape == expected else {
            throw PlasticityError.shapeMismatch(name: name, expected: "\(expected)", found: "\(array.shape)")
        }
    }
}
