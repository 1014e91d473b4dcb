import Foundation

/// The shape of a single-population network: I inputs → N neurons of one model (optionally
/// recurrent, optionally with a bias current) → C readout units.
public struct NetworkShape: Sendable, Equatable, Codable {
    public var inputs: Int
    public var hidden: Int
    public var outputs: Int
    public var recurrent: Bool
    public var bias: Bool
    /// κ of the readout y_t = κ y_{t−1} + W_out z_t + b_out (0: not leaky).
    public var readoutDecay: Double

    public init(inputs: Int, hidden: Int, outputs: Int, recurrent: Bool = false, bias: Bool = false, readoutDecay: Double = 0) {
        self.inputs = inputs
        self.hidden = hidden
        self.outputs = outputs
        self.recurrent = recurrent
        self.bias = bias
        self.readoutDecay = readoutDecay
    }

    /// Presynaptic values feeding the input weights each step: the inputs, plus a constant 1
    /// standing for the bias (so the bias is trained as one more input column).
    public var inputColumns: Int { inputs + (bias ? 1 : 0) }

    func validate() throws {
        guard inputs > 0, hidden > 0, outputs > 0 else {
            throw PlasticityError.invalidConfiguration("a network needs at least one input, one hidden neuron and one output (got \(inputs), \(hidden), \(outputs))")
        }
        guard readoutDecay >= 0, readoutDecay < 1 else {
            throw PlasticityError.invalidConfiguration("the readout decay κ must be in [0, 1), got \(readoutDecay)")
        }
    }
}

/// A network: a shape and the compiled neuron model of its population. Stacking populations
/// would make `Network` hold a list of (population, projection) pairs; every rule already
/// works on one population's blocks at a time.
public final class Network {
    public let shape: NetworkShape
    public let neuron: CompiledNeuron

    public init(shape: NetworkShape, neuron: CompiledNeuron) throws {
        try shape.validate()
        guard neuron.structure.coupling == .diagonal else {
            throw PlasticityError.invalidConfiguration("model \(neuron.name) reads other neurons; its blocks are dense across neurons, which the rules do not support yet")
        }
        self.shape = shape
        self.neuron = neuron
    }
}

/// Weights, biases — or their gradients, which have the same layout.
///
/// Layouts are row-major with the postsynaptic index first (as PyTorch's `Linear.weight`):
/// `inputWeights` N×I, `recurrentWeights` N×N (empty without recurrence), `bias` N (empty
/// without bias), `outputWeights` C×N, `outputBias` C.
public struct ParameterSet<T: KernelScalar>: Equatable, Codable {
    public var inputWeights: [T]
    public var recurrentWeights: [T]
    public var bias: [T]
    public var outputWeights: [T]
    public var outputBias: [T]

    /// All zeros, shaped for `shape`.
    public init(zerosFor shape: NetworkShape) {
        inputWeights = [T](repeating: 0, count: shape.hidden * shape.inputs)
        recurrentWeights = [T](repeating: 0, count: shape.recurrent ? shape.hidden * shape.hidden : 0)
        bias = [T](repeating: 0, count: shape.bias ? shape.hidden : 0)
        outputWeights = [T](repeating: 0, count: shape.outputs * shape.hidden)
        outputBias = [T](repeating: 0, count: shape.outputs)
    }

    /// The usual initialisation of the field: Gaussian weights scaled by 1/√fan-in (times
    /// `inputGain` for the input projection), recurrent weights without self-connections,
    /// zero biases. Deterministic for a seed.
    public init(randomFor shape: NetworkShape, seed: UInt64, inputGain: Double = 1, recurrentGain: Double = 1) {
        self.init(zerosFor: shape)
        var generator = SeededGenerator(seed: seed)
        func gaussian(_ count: Int, scale: Double) -> [T] {
            (0..<count).map { _ in T(generator.nextGaussian() * scale) }
        }
        inputWeights = gaussian(inputWeights.count, scale: inputGain / Double(shape.inputs).squareRoot())
        if shape.recurrent {
            recurrentWeights = gaussian(recurrentWeights.count, scale: recurrentGain / Double(shape.hidden).squareRoot())
            for j in 0..<shape.hidden { recurrentWeights[j * shape.hidden + j] = 0 }
        }
        outputWeights = gaussian(outputWeights.count, scale: 1 / Double(shape.hidden).squareRoot())
    }

    /// Every tensor by name, in a fixed order (the names used in .npz files).
    public var named: [(name: String, values: [T])] {
        [("input_weights", inputWeights), ("recurrent_weights", recurrentWeights), ("bias", bias),
         ("output_weights", outputWeights), ("output_bias", outputBias)]
    }

    /// All values in `named` order.
    public var flattened: [T] { named.flatMap(\.values) }
}

/// SplitMix64 with Box–Muller Gaussians: reproducible across platforms for a seed.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A standard normal sample.
    public mutating func nextGaussian() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let v = Double.random(in: 0..<1, using: &self)
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
}
