import RealModule
import PlasticityBase

/// The fused per-step kernel of a compiled neuron: from h[t-1], z[t-1] and I[t] of every
/// (batch element, neuron) it computes h[t], z[t] and the requested Jacobian entries.
///
/// All arrays have `count` elements laid out identically (typically [batch][neuron]); the
/// parameter inputs, when the neuron has any, too (a neuron's value repeated per batch element).
/// A kernel owns scratch registers: use one kernel per thread.
public final class NeuronStepKernel<T: KernelScalar> {
    public let stateCount: Int
    /// The number of parameter arrays `run` reads.
    public let parameterCount: Int
    /// The block entries written after the state and the spike, in this order.
    public let entries: [CompiledNeuron.BlockEntry]
    private let kernel: StepKernel<T>

    init(neuron: CompiledNeuron, entries: [CompiledNeuron.BlockEntry], spikes: ExpressionGraph.SpikeMode) {
        let k = neuron.stateCount
        stateCount = k
        parameterCount = neuron.parameterInputs.count
        self.entries = entries
        var aliases: [Int: Sym] = [:]
        for i in 0..<k { aliases[neuron.newStateSlot(i)] = neuron.update[i] }
        kernel = StepKernel(graph: neuron.graph,
                            inputSlots: (0..<k).map(neuron.previousStateSlot) + [neuron.previousSpikeSlot, neuron.currentSlot]
                                + (0..<parameterCount).map(neuron.parameterSlot),
                            aliases: aliases,
                            outputs: neuron.update + [neuron.spike] + entries.map(neuron.expression(of:)),
                            spikes: spikes)
    }

    /// Instructions per (batch element, neuron) and step.
    public var instructionCount: Int { kernel.instructionCount }
    /// Calls into a C plugin's kernels per step (zero for Swift models).
    public var externalCallCount: Int { kernel.externalCallCount }

    /// The position of `entry` in `entryOutputs` of `run`, if the kernel computes it.
    public func index(of entry: CompiledNeuron.BlockEntry) -> Int? { entries.firstIndex(of: entry) }

    /// Runs one step for `count` elements.
    /// - Parameters:
    ///   - previousState: k arrays h_i[t-1]; `newState`: k arrays h_i[t]. They may be the same
    ///     arrays: each chunk is read completely before any of it is written.
    ///   - entryOutputs: one array per entry of `entries`.
    ///   - parameters: one array per parameter input of the neuron.
    public func run(previousState: [UnsafePointer<T>], previousSpike: UnsafePointer<T>, current: UnsafePointer<T>,
                    newState: [UnsafeMutablePointer<T>], spike: UnsafeMutablePointer<T>,
                    entryOutputs: [UnsafeMutablePointer<T>], parameters: [UnsafePointer<T>] = [], count: Int) {
        kernel.run(inputs: previousState + [previousSpike, current] + parameters, outputs: newState + [spike] + entryOutputs, count: count)
    }
}
