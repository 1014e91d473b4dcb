// The hot kernels, kept measured: `swift package benchmark` (ordo-one/benchmark) runs these
// and can compare against a saved baseline. The models are linked in directly so the
// benchmark needs no plugin loading; the rules are the same code `plasticity bench` runs.
import ALIFModel
import Benchmark
import LIFModel
import PlasticityCore

/// One recurrent-free network of the paper's benchmark configuration (I=140, C=20, B=16).
struct Workbench {
    let network: Network
    let parameters: ParameterSet<Float>
    let inputs: [Float]
    let loss: Loss<Float>
    let steps: Int
    static let batch = 16

    init(model: any NeuronModel.Type, hidden: Int, steps: Int) throws {
        let shape = NetworkShape(inputs: 140, hidden: hidden, outputs: 20)
        network = try Network(shape: shape, neuron: CompiledNeuron(model: model))
        parameters = ParameterSet(randomFor: network, seed: 1, inputGain: 4)
        var generator = SeededGenerator(seed: 2)
        inputs = (0..<(steps * Self.batch * 140)).map { _ in Double.random(in: 0..<1, using: &generator) < 0.05 ? 1 : 0 }
        loss = try Loss(.crossEntropyEveryStep, steps: steps, batch: Self.batch, outputs: 20,
                        labels: (0..<(steps * Self.batch)).map { _ in Int.random(in: 0..<20, using: &generator) })
        self.steps = steps
    }

    func gradients(_ rule: LearningRuleKind) throws -> GradientResult<Float> {
        try GradientComputation.run(rule: rule, network: network, parameters: parameters, inputs: inputs, steps: steps, batch: Self.batch, loss: loss)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident], maxDuration: .seconds(3), maxIterations: 50)

    for (name, model) in [("LIF", LIF.self as any NeuronModel.Type), ("ALIF", ALIF.self)] {
        for rule in [LearningRuleKind.eprop, .bptt] {
            Benchmark("\(rule.rawValue) \(name) N=256, 100 steps") { benchmark in
                let bench = try Workbench(model: model, hidden: 256, steps: 100)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(try bench.gradients(rule)) }
            }
        }
    }

    Benchmark("ALIF step kernel, 16×256 neurons") { benchmark in
        let kernel = try CompiledNeuron(model: ALIF.self).makeStepKernel(Float.self)
        let count = 16 * 256
        let inputs = (0..<4).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
        let outputs = (0..<(3 + kernel.entries.count)).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
        for (index, pointer) in inputs.enumerated() { pointer.initialize(repeating: Float(index) * 0.3, count: count) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            kernel.run(previousState: [UnsafePointer(inputs[0]), UnsafePointer(inputs[1])], previousSpike: inputs[2], current: inputs[3],
                       newState: [outputs[0], outputs[1]], spike: outputs[2], entryOutputs: Array(outputs[3...]), count: count)
        }
        benchmark.stopMeasurement()
        (inputs + outputs).forEach { $0.deallocate() }
    }
}
