import Foundation
import PlasticityCore
import Testing

/// A plugin model with a parameter setting and a surrogate.
struct ModelCase: Sendable, CustomTestStringConvertible {
    let model: String
    let parameters: [String: Double]
    let surrogate: String
    var testDescription: String { "\(model) \(parameters) \(surrogate)" }

    func compile() throws -> CompiledNeuron {
        try TestPlugins.compile(model, parameters, surrogate: SurrogateParser.parse(surrogate))
    }

    static let all: [ModelCase] = TestPlugins.names.flatMap { model in
        TestPlugins.resetVariants(model).flatMap { parameters in
            ["triangle", "sigmoid(slope=3)"].map { ModelCase(model: model, parameters: parameters, surrogate: $0) }
        }
    }
}

@Suite("Jacobian blocks of the plugin models")
struct JacobianTests {
    static let h = 1e-6
    /// Central differences in Double have error ~h² + ε/h ≈ 1e-10; 1e-6 leaves room for
    /// curvature without hiding a wrong term.
    static let tolerance = 1e-6

    static func randomState(_ neuron: CompiledNeuron, _ rng: inout SplitMix64) -> [Double] {
        TestPlugins.stateRanges(neuron.name, count: neuron.stateCount).map { Double.random(in: $0, using: &rng) }
    }

    static func centralDifference(_ f: ([Double]) -> Double, at x: [Double], _ index: Int) -> Double {
        var plus = x, minus = x
        plus[index] += h
        minus[index] -= h
        return (f(plus) - f(minus)) / (2 * h)
    }

    /// (a) The partials of the smooth pieces F and f against finite differences.
    @Test("∂F/∂h, ∂F/∂I, ∂F/∂z[t-1] and ∂f/∂h match central differences", arguments: ModelCase.all)
    func smoothPartials(_ modelCase: ModelCase) throws {
        let neuron = try modelCase.compile()
        let k = neuron.stateCount
        var rng = SplitMix64(seed: 11)
        for _ in 0..<25 {
            let h = Self.randomState(neuron, &rng)
            let z = Double.random(in: 0...1, using: &rng)
            let current = Double.random(in: -1...2, using: &rng)
            let point = h + [z, current]
            let frozen = neuron.frozenValues(h, spike: z, current: current)
            let step = KernelStep(neuron, state: h, previousSpike: z, current: current, spikes: .heaviside)
            for i in 0..<k {
                let F = { (p: [Double]) in neuron.evaluateUpdate(Array(p[0..<k]), spike: p[k], current: p[k + 1], frozen: frozen)[i] }
                for j in 0..<k {
                    #expect(scaledError(step.a(i, j), Self.centralDifference(F, at: point, j)) < Self.tolerance, "A[\(i)][\(j)]")
                }
                #expect(scaledError(step.r(i), Self.centralDifference(F, at: point, k)) < Self.tolerance, "r[\(i)]")
                #expect(scaledError(step.b(i), Self.centralDifference(F, at: point, k + 1)) < Self.tolerance, "b[\(i)]")
            }
            let f = { (state: [Double]) in neuron.graph.evaluate([neuron.spikeArgument], variables: neuron.variables(previous: state, spike: 0, current: 0, new: state))[0] }
            let analytic = neuron.graph.evaluate(neuron.spikeArgumentGradient, variables: neuron.variables(previous: h, spike: 0, current: 0, new: h))
            for j in 0..<k {
                #expect(scaledError(analytic[j], Self.centralDifference(f, at: h, j)) < Self.tolerance, "∂f/∂h[\(j)]")
            }
        }
    }

    /// (b) In smooth mode the surrogate is the true derivative, so the total blocks must
    /// match finite differences of the whole step h[t-1] ↦ F(h[t-1], Ψ(f(h[t-1])), I).
    @Test("total blocks D, b, c, r match finite differences of the whole step in smooth mode", arguments: ModelCase.all)
    func totalBlocksInSmoothMode(_ modelCase: ModelCase) throws {
        let neuron = try modelCase.compile()
        let k = neuron.stateCount
        var rng = SplitMix64(seed: 23)
        var sawSurrogateGradient = false
        for _ in 0..<25 {
            let h0 = Self.randomState(neuron, &rng)
            let first = KernelStep(neuron, state: h0, previousSpike: 0, current: Double.random(in: -1...2, using: &rng), spikes: .smooth)
            let h1 = first.newState
            let current = Double.random(in: -1...2, using: &rng)
            let second = KernelStep(neuron, state: h1, previousSpike: first.spike, current: current, spikes: .smooth)
            let frozen = neuron.frozenValues(h1, spike: first.spike, current: current)
            let wholeStep = { (p: [Double]) -> [Double] in
                let state = Array(p[0..<k])
                return neuron.evaluateUpdate(state, spike: neuron.evaluateSpike(state, spikes: .smooth), current: p[k], frozen: frozen)
            }
            let point = h1 + [current]
            for i in 0..<k {
                for j in 0..<k {
                    let d = second.a(i, j) + second.r(i) * first.c(j)
                    #expect(scaledError(d, Self.centralDifference({ wholeStep($0)[i] }, at: point, j)) < Self.tolerance, "D[\(i)][\(j)]")
                }
                #expect(scaledError(second.b(i), Self.centralDifference({ wholeStep($0)[i] }, at: point, k)) < Self.tolerance, "b[\(i)]")
                let withSpike = { (p: [Double]) in neuron.evaluateUpdate(h1, spike: p[0], current: current, frozen: frozen)[i] }
                #expect(scaledError(second.r(i), Self.centralDifference(withSpike, at: [first.spike], 0)) < Self.tolerance, "r[\(i)]")
            }
            for j in 0..<k {
                let smoothSpike = { (state: [Double]) in neuron.evaluateSpike(state, spikes: .smooth) }
                #expect(scaledError(first.c(j), Self.centralDifference(smoothSpike, at: h1, j)) < Self.tolerance, "c[\(j)]")
                if first.c(j) != 0 { sawSurrogateGradient = true }
            }
            #expect(scaledError(first.spike, neuron.evaluateSpike(h1, spikes: .smooth)) < 1e-12)
        }
        #expect(sawSurrogateGradient, "the samples must exercise the surrogate")
    }

    @Test("the Float kernel matches the Double reference on a batch with spikes")
    func floatKernelOnBatch() throws {
        for name in TestPlugins.names {
            let neuron = try TestPlugins.compile(name)
            let k = neuron.stateCount
            let count = 1000
            var rng = SplitMix64(seed: 5)
            let states = (0..<k).map { _ in Buffer((0..<count).map { _ in Float.random(in: -0.5...2, using: &rng) }) }
            let spikes = Buffer((0..<count).map { _ in Float(Int.random(in: 0...1, using: &rng)) })
            let currents = Buffer((0..<count).map { _ in Float.random(in: -1...2, using: &rng) })
            let kernel = neuron.makeStepKernel(Float.self)
            let outputs = (0..<(k + 1 + kernel.entries.count)).map { _ in Buffer<Float>(count: count) }
            kernel.run(previousState: states.map(\.readOnly), previousSpike: spikes.readOnly, current: currents.readOnly,
                       newState: outputs[0..<k].map(\.pointer), spike: outputs[k].pointer,
                       entryOutputs: outputs[(k + 1)...].map(\.pointer), count: count)
            var spikeCount = 0
            for e in 0..<count {
                let h = states.map { Double($0[e]) }
                let reference = KernelStep(neuron, state: h, previousSpike: Double(spikes[e]), current: Double(currents[e]), spikes: .heaviside)
                for i in 0..<k { #expect(scaledError(Double(outputs[i][e]), reference.newState[i]) < 1e-5, "\(name) h[\(i)] at \(e)") }
                #expect(Double(outputs[k][e]) == reference.spike)
                spikeCount += Int(outputs[k][e])
                for (index, entry) in kernel.entries.enumerated() {
                    #expect(scaledError(Double(outputs[k + 1 + index][e]), reference.entries[entry]!) < 1e-5, "\(name) \(entry) at \(e)")
                }
            }
            #expect(spikeCount > 0 && spikeCount < count, "\(name): the batch must contain spikes and silence")
        }
    }
}
