import Foundation
import PlasticityCore

/// A small random network, batch and loss for comparing rules.
struct RuleFixture {
    let network: Network
    let parameters: ParameterSet<Double>
    let inputs: [Double]
    let steps: Int
    let batch: Int
    let loss: Loss<Double>

    init(model: String, modelParameters: [String: Double] = [:], surrogate: (any Surrogate)? = nil,
         recurrent: Bool, readoutDecay: Double = 0, lossKind: LossKind = .crossEntropyEveryStep,
         hidden: Int = 5, inputs inputCount: Int = 4, outputs: Int = 3, steps: Int = 14, batch: Int = 2, seed: UInt64 = 1,
         spikeInputDensity: Double? = nil) throws {
        // AdLIF scales its input current by (1 − α) ≈ 0.05, so it needs ~20× the drive to
        // spike; an Izhikevich neuron at rest needs a current of ~5–10.
        let drive = ["AdLIF": 20.0, "Izhikevich": 8.0][TestPlugins.swiftCounterpart[model] ?? model] ?? 1.0
        try self.init(neuron: TestPlugins.compile(model, modelParameters, surrogate: surrogate), drive: drive, recurrent: recurrent,
                      readoutDecay: readoutDecay, lossKind: lossKind, hidden: hidden, inputs: inputCount, outputs: outputs, steps: steps,
                      batch: batch, seed: seed, spikeInputDensity: spikeInputDensity)
    }

    /// A fixture for a compiled model; `drive` scales the input and recurrent weights.
    init(neuron: CompiledNeuron, drive: Double = 1, recurrent: Bool, readoutDecay: Double = 0, lossKind: LossKind = .crossEntropyEveryStep,
         hidden: Int = 5, inputs inputCount: Int = 4, outputs: Int = 3, steps: Int = 14, batch: Int = 2, seed: UInt64 = 1,
         spikeInputDensity: Double? = nil) throws {
        let shape = NetworkShape(inputs: inputCount, hidden: hidden, outputs: outputs, recurrent: recurrent, bias: true, readoutDecay: readoutDecay)
        try self.init(network: try Network(shape: shape, neuron: neuron), inputGain: 3 * drive, recurrentGain: 1.5 * drive, lossKind: lossKind,
                      steps: steps, batch: batch, seed: seed, spikeInputDensity: spikeInputDensity)
    }

    /// A fixture for any network: random weights (projections may state their own gains),
    /// small distinct biases, inputs and a loss.
    init(network: Network, inputGain: Double = 3, recurrentGain: Double = 1.5, lossKind: LossKind = .crossEntropyEveryStep,
         steps: Int = 14, batch: Int = 2, seed: UInt64 = 1, spikeInputDensity: Double? = nil) throws {
        self.network = network
        let inputCount = network.inputs, outputs = network.outputs
        var parameters = ParameterSet<Double>(randomFor: network, seed: seed, inputGain: inputGain, recurrentGain: recurrentGain)
        for (p, population) in network.populations.enumerated() where population.bias {
            parameters[network.biasName(p)] = (0..<population.size).map { Double($0) * 0.05 }
        }
        parameters["readout.bias"] = (0..<outputs).map { Double($0) * 0.1 - 0.1 }
        self.parameters = parameters
        var rng = SplitMix64(seed: seed &+ 100)
        // Analog inputs in [0, 1], or spikes (mostly zero) with the given density.
        inputs = (0..<(steps * batch * inputCount)).map { _ in
            let uniform = Double.random(in: 0...1, using: &rng)
            return spikeInputDensity.map { uniform < $0 ? 1 : 0 } ?? uniform
        }
        self.steps = steps
        self.batch = batch
        switch lossKind {
        case .crossEntropyEveryStep:
            let labels = (0..<(steps * batch)).map { _ in Int.random(in: 0..<outputs, using: &rng) }
            let mask = (0..<(steps * batch)).map { index in index / batch < 3 ? 0.0 : 1.0 }
            loss = try Loss(lossKind, steps: steps, batch: batch, outputs: outputs, labels: labels, mask: mask)
        case .crossEntropyLastStep, .crossEntropySummed:
            loss = try Loss(lossKind, steps: steps, batch: batch, outputs: outputs, labels: (0..<batch).map { $0 % outputs })
        case .meanSquaredError:
            let targets = (0..<(steps * batch * outputs)).map { _ in Double.random(in: -1...1, using: &rng) }
            loss = try Loss(lossKind, steps: steps, batch: batch, outputs: outputs, targets: targets)
        }
    }

    func gradients(_ rule: LearningRuleKind, parameters: ParameterSet<Double>? = nil, options: RuleOptions = .init()) throws -> GradientResult<Double> {
        try GradientComputation.run(rule: rule, network: network, parameters: parameters ?? self.parameters, inputs: inputs,
                                    steps: steps, batch: batch, loss: loss, options: options)
    }
}

/// ‖a − b‖ / ‖b‖ over all parameters.
func relativeError(_ a: ParameterSet<Double>, _ b: ParameterSet<Double>) -> Double {
    relativeError(a.flattened, b.flattened)
}

/// ‖x − y‖ / ‖y‖.
func relativeError(_ x: [Double], _ y: [Double]) -> Double {
    let difference = zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
    let norm = y.map { $0 * $0 }.reduce(0, +).squareRoot()
    return difference / Swift.max(norm, 1e-300)
}

func cosineSimilarity(_ a: [Double], _ b: [Double]) -> Double {
    let dot = zip(a, b).map { $0 * $1 }.reduce(0, +)
    let na = a.map { $0 * $0 }.reduce(0, +).squareRoot(), nb = b.map { $0 * $0 }.reduce(0, +).squareRoot()
    return dot / (na * nb)
}

/// Central differences of `loss` in every parameter, step h.
func finiteDifferences(of parameters: ParameterSet<Double>, h: Double = 1e-6, loss: (ParameterSet<Double>) throws -> Double) rethrows -> ParameterSet<Double> {
    var numeric = ParameterSet<Double>(zerosLike: parameters)
    for name in parameters.names {
        var values = numeric[name]
        for index in values.indices {
            var plus = parameters, minus = parameters
            plus[name][index] += h
            minus[name][index] -= h
            values[index] = (try loss(plus) - loss(minus)) / (2 * h)
        }
        numeric[name] = values
    }
    return numeric
}
