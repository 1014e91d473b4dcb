import Foundation
import PlasticityBase
import PlasticityEngine
import PlasticityIO

/// The array names and shapes of weights, gradients and batches in `.npz` files (documented
/// in Documentation/LearningRules.md).
public enum NetworkArrays {
    /// Reads weights for `network`: one array per tensor, named and shaped as
    /// `Network.tensors` lists them ((rows, columns), or (rows,) for a bias). A missing
    /// readout bias is zero and a missing trained neuron parameter takes its population's
    /// initial values; any other missing tensor, or an array the network has no tensor for,
    /// is refused by name, and so is a neuron parameter outside its model's range.
    public static func readWeights<T: KernelScalar>(_ arrays: [String: NumPyArray], file: String, network: Network) throws -> ParameterSet<T> {
        var parameters = ParameterSet<T>(zerosFor: network)
        parameters.setInitialNeuronParameters(of: network)
        let trainedNeuronParameters = Set(network.trainedNeuronParameters.map(\.tensor))
        let tensors = network.tensors
        if let extra = arrays.keys.sorted().first(where: { name in !tensors.contains { $0.name == name } }) {
            throw PlasticityError.shapeMismatch(name: extra, expected: "a tensor of this network (\(tensors.map(\.name).joined(separator: ", ")))", found: "an array in \(file)")
        }
        for tensor in tensors {
            guard let array = arrays[tensor.name] else {
                if tensor.name == Network.readoutBiasName || trainedNeuronParameters.contains(tensor.name) { continue }
                throw PlasticityError.missingArray(name: tensor.name, file: file)
            }
            try check(tensor.name, array, tensor.arrayShape)
            parameters[tensor.name] = array.doubles.map { T($0) }
        }
        if let bad = parameters.firstNonFiniteTensor {
            throw PlasticityError.malformedArray(name: bad, reason: "contains NaN or infinite values")
        }
        try network.checkNeuronParameters(parameters)
        return parameters
    }

    /// A per-neuron parameter array (`--set NAME=FILE.npz:ARRAY`, or a network file's): any
    /// shape, read in order, every value finite.
    public static func parameterArray(path: String, name: String) throws -> [Double] {
        let arrays = try NumPyArchive.read(URL(fileURLWithPath: path))
        guard let array = arrays[name] else { throw PlasticityError.missingArray(name: name, file: path) }
        let values = array.doubles
        guard values.allSatisfy(\.isFinite) else { throw PlasticityError.malformedArray(name: name, reason: "contains NaN or infinite values") }
        return values
    }

    /// The short form (`Network(shape:neuron:)`, `layers` stacked populations) that weights
    /// named as it names them describe: the bottom population's `…input` (N, I), the top
    /// one's readout weights (C, N), and whether `…recurrent` and `…bias` are present.
    public static func shortFormShape(_ arrays: [String: NumPyArray], file: String, layers: Int, readoutDecay: Double) throws -> NetworkShape {
        let names = NetworkShape(inputs: 1, hidden: 1, outputs: 1, layers: layers).populationNames
        let input = try require("\(names[0]).input", in: arrays, file: file, rank: 2)
        let output = try require("\(Network.readoutName).\(names.last!)", in: arrays, file: file, rank: 2)
        return NetworkShape(inputs: input.shape[1], hidden: input.shape[0], outputs: output.shape[0], recurrent: arrays["\(names[0]).recurrent"] != nil,
                            bias: arrays["\(names[0]).bias"] != nil, readoutDecay: readoutDecay, layers: layers)
    }

    /// C, from the readout's weights (any `readout.*` matrix) or bias.
    public static func readoutSize(_ arrays: [String: NumPyArray], file: String) throws -> Int {
        let prefix = Network.readoutName + "."
        guard let readout = arrays.keys.sorted().first(where: { $0.hasPrefix(prefix) }).map({ arrays[$0]! }), !readout.shape.isEmpty else {
            throw PlasticityError.missingArray(name: "readout.<population>", file: file)
        }
        return readout.shape[0]
    }

    /// Weights or gradients as arrays, named and shaped as `Network.tensors`.
    public static func arrays<T: KernelScalar>(of parameters: ParameterSet<T>, network: Network) -> [String: NumPyArray] {
        Dictionary(uniqueKeysWithValues: network.tensors.map { ($0.name, array(parameters[$0.name], $0.arrayShape)) })
    }

    /// A batch: `inputs` (T, B, I) and the loss's targets — `labels` (T, B) or (B,) integers,
    /// or `targets` (T, B, C) — and optionally `mask` (T, B).
    public static func readBatch<T: KernelScalar>(_ arrays: [String: NumPyArray], file: String, network: Network,
                                                  lossKind requested: LossKind?) throws -> (inputs: [T], steps: Int, batch: Int, loss: Loss<T>) {
        let inputs = try require("inputs", in: arrays, file: file, rank: 3)
        let steps = inputs.shape[0], batch = inputs.shape[1]
        guard inputs.shape[2] == network.inputs else {
            throw PlasticityError.shapeMismatch(name: "inputs", expected: "(T, B, \(network.inputs)) to match the network", found: "\(inputs.shape)")
        }
        let values = inputs.doubles
        if let bad = values.first(where: { !$0.isFinite }) {
            throw PlasticityError.malformedArray(name: "inputs", reason: "contains \(bad)")
        }
        let kind = try requested ?? inferredLoss(arrays)
        var mask: [T]?
        if arrays["mask"] != nil, kind == .crossEntropyLastStep || kind == .crossEntropySummed {
            throw PlasticityError.invalidConfiguration("\(file) has a 'mask', but the \(kind.rawValue) loss has one target per sequence and no steps to mask; drop the mask or use ce-every-step or mse")
        }
        if let maskArray = arrays["mask"] {
            try check("mask", maskArray, [steps, batch])
            mask = maskArray.doubles.map { T($0) }
        }
        let loss: Loss<T>
        switch kind {
        case .meanSquaredError:
            let targets = try require("targets", in: arrays, file: file, rank: 3)
            try check("targets", targets, [steps, batch, network.outputs])
            loss = try Loss(kind, steps: steps, batch: batch, outputs: network.outputs, targets: targets.doubles.map { T($0) }, mask: mask)
        case .crossEntropyEveryStep:
            let labels = try require("labels", in: arrays, file: file, rank: 2)
            try check("labels", labels, [steps, batch])
            loss = try Loss(kind, steps: steps, batch: batch, outputs: network.outputs, labels: labels.integers(name: "labels"), mask: mask)
        case .crossEntropyLastStep, .crossEntropySummed:
            let labels = try require("labels", in: arrays, file: file, rank: 1)
            try check("labels", labels, [batch])
            loss = try Loss(kind, steps: steps, batch: batch, outputs: network.outputs, labels: labels.integers(name: "labels"))
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
