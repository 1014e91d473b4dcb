import PlasticityCore

/// One neuron's step evaluated through the compiled Double kernel, with every block entry.
struct KernelStep {
    let newState: [Double]
    let spike: Double
    let entries: [CompiledNeuron.BlockEntry: Double]

    init(_ neuron: CompiledNeuron, state: [Double], previousSpike: Double, current: Double, spikes: ExpressionGraph.SpikeMode) {
        let kernel = neuron.makeStepKernel(Double.self, entries: neuron.allEntries, spikes: spikes)
        let k = neuron.stateCount
        let previous = state.map { value -> UnsafeMutablePointer<Double> in
            let p = UnsafeMutablePointer<Double>.allocate(capacity: 1)
            p.initialize(to: value)
            return p
        }
        let scratch = (0..<(k + 3 + kernel.entries.count)).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: 1) }
        defer { (previous + scratch).forEach { $0.deallocate() } }
        scratch[0].initialize(to: previousSpike)
        scratch[1].initialize(to: current)
        let outputs = Array(scratch[2...])
        kernel.run(previousState: previous.map { UnsafePointer($0) }, previousSpike: scratch[0], current: scratch[1],
                   newState: Array(outputs[0..<k]), spike: outputs[k], entryOutputs: Array(outputs[(k + 1)...]), count: 1)
        newState = outputs[0..<k].map { $0.pointee }
        spike = outputs[k].pointee
        var entries: [CompiledNeuron.BlockEntry: Double] = [:]
        for (index, entry) in kernel.entries.enumerated() { entries[entry] = outputs[k + 1 + index].pointee }
        self.entries = entries
    }

    var stateCount: Int { newState.count }
    func a(_ i: Int, _ j: Int) -> Double { entries[.stateJacobian(row: i, column: j)]! }
    func r(_ i: Int) -> Double { entries[.ownSpikeGain(i)]! }
    func b(_ i: Int) -> Double { entries[.currentGain(i)]! }
    func c(_ j: Int) -> Double { entries[.spikeGradient(j)]! }
}

/// Reference evaluation of a compiled neuron's pieces through the graph interpreter.
extension CompiledNeuron {
    /// Variable values for the graph: h[t-1], z[t-1], I[t], h[t].
    func variables(previous: [Double], spike: Double, current: Double, new: [Double]? = nil) -> [Double] {
        previous + [spike, current] + (new ?? previous)
    }

    /// F(h, z, I), with stopGradient values held at `frozen`.
    func evaluateUpdate(_ h: [Double], spike: Double, current: Double, frozen: ExpressionGraph.FrozenValues) -> [Double] {
        graph.evaluate(update, variables: variables(previous: h, spike: spike, current: current), frozen: frozen)
    }

    /// The stopGradient values at a point, for finite differences of the declared function.
    func frozenValues(_ h: [Double], spike: Double, current: Double) -> ExpressionGraph.FrozenValues {
        graph.stopGradientValues(variables: variables(previous: h, spike: spike, current: current))
    }

    /// z = spike(f(h)) in the given mode.
    func evaluateSpike(_ h: [Double], spikes: ExpressionGraph.SpikeMode) -> Double {
        graph.evaluate([spike], variables: variables(previous: h, spike: 0, current: 0, new: h), spikes: spikes)[0]
    }
}

extension CompiledNeuron {
    /// c(h) = ∂z/∂h at state h.
    func spikeGradientValues(at h: [Double]) -> [Double] {
        graph.evaluate(spikeGradient, variables: variables(previous: h, spike: 0, current: 0, new: h))
    }

    /// The total blocks of one spiking step from state h: D = A + r·c(h)ᵀ and b.
    func totalBlocks(at h: [Double], current: Double) -> (d: [[Double]], b: [Double], newState: [Double]) {
        let z = evaluateSpike(h, spikes: .heaviside)
        let step = KernelStep(self, state: h, previousSpike: z, current: current, spikes: .heaviside)
        let c = spikeGradientValues(at: h)
        let k = stateCount
        let d = (0..<k).map { i in (0..<k).map { j in step.a(i, j) + step.r(i) * c[j] } }
        return (d, (0..<k).map(step.b), step.newState)
    }
}
