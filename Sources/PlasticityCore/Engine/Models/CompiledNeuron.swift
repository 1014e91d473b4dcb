import RealModule
import PlasticityBase

/// A neuron model traced, differentiated, annotated and ready to compile into kernels.
///
/// Variables of its graph: h[t-1] (one per state variable), z[t-1], I[t], then h[t] (read
/// only by the spike function, and aliased to the update when compiled).
public final class CompiledNeuron {
    public let name: String
    public let stateNames: [String]
    public let initialState: [Double]
    /// The resolved parameter values, in the model's declaration order.
    public let parameters: [(name: String, value: Double)]
    public let surrogate: any Surrogate
    public let graph: ExpressionGraph
    /// F_i(h[t-1], z[t-1], I[t]).
    public let update: [Sym]
    /// f(h[t]).
    public let spikeArgument: Sym
    /// z[t] = spike(f(h[t])).
    public let spike: Sym
    /// A_ij = ∂F_i/∂h_j[t-1].
    public let stateJacobian: [[Sym]]
    /// r_i = ∂F_i/∂z[t-1].
    public let ownSpikeGain: [Sym]
    /// b_i = ∂F_i/∂I[t].
    public let currentGain: [Sym]
    /// c_j = ∂z[t]/∂h_j[t] = ψ(f)·∂f/∂h_j.
    public let spikeGradient: [Sym]
    /// ∂f/∂h_j[t] (smooth, without the surrogate).
    public let spikeArgumentGradient: [Sym]
    public let structure: BlockStructure

    /// The number of state variables k.
    public var stateCount: Int { stateNames.count }

    /// Graph variable slots.
    public func previousStateSlot(_ i: Int) -> Int { i }
    public var previousSpikeSlot: Int { stateCount }
    public var currentSlot: Int { stateCount + 1 }
    public func newStateSlot(_ i: Int) -> Int { stateCount + 2 + i }

    /// Traces a Swift model type.
    public convenience init(model: any NeuronModel.Type, configuration: ModelConfiguration = .init()) throws {
        try self.init(model: ModelDescription(model), configuration: configuration)
    }

    /// Traces `model` with `configuration` and derives its annotated blocks.
    public init(model: ModelDescription, configuration: ModelConfiguration = .init()) throws {
        name = model.name
        let specs = model.parameters
        let known = specs.map(\.name)
        for key in configuration.parameters.keys.sorted() where !known.contains(key) {
            throw PlasticityError.unknownParameter(model: name, name: key, known: known)
        }
        var values: [String: Double] = [:]
        for spec in specs {
            let value = configuration.parameters[spec.name] ?? spec.defaultValue
            guard value.isFinite, spec.validRange.contains(value) else {
                throw PlasticityError.parameterOutOfRange(model: name, name: spec.name, value: value,
                                                          range: "\(formatConstant(spec.validRange.lowerBound))...\(formatConstant(spec.validRange.upperBound))")
            }
            values[spec.name] = value
        }
        parameters = specs.map { ($0.name, values[$0.name]!) }
        surrogate = configuration.surrogate ?? model.defaultSurrogate
        stateNames = model.stateVariables.map(\.name)
        initialState = model.stateVariables.map(\.initialValue)
        let k = stateNames.count
        guard k > 0 else { throw PlasticityError.invalidModel(model: name, reason: "it declares no state variables") }
        guard Set(stateNames).count == k else { throw PlasticityError.invalidModel(model: name, reason: "state variable names repeat") }

        let stateNames = self.stateNames
        let graph = ExpressionGraph(variableNames: stateNames.map { "\($0)[t-1]" } + ["z[t-1]", "I[t]"] + stateNames.map { "\($0)[t]" })
        self.graph = graph
        let parameterValues = ParameterValues(model: name, values: values)
        let instance = model.makeStep(parameterValues)
        let previous = (0..<k).map(graph.variable)
        let inputs = NeuronStepInputs(state: previous, previousSpike: graph.variable(k), current: graph.variable(k + 1))
        let update = instance.update(inputs)
        self.update = update
        let newState = (0..<k).map { graph.variable(k + 2 + $0) }
        let spikeArgument = instance.spikeArgument(newState)
        self.spikeArgument = spikeArgument
        if let undeclared = parameterValues.undeclaredReads.first {
            throw PlasticityError.undeclaredParameterRead(model: name, name: undeclared)
        }
        if let refusal = parameterValues.refusals.first { throw PlasticityError.invalidModel(model: name, reason: refusal) }
        guard update.count == k else {
            throw PlasticityError.invalidModel(model: name, reason: "update returns \(update.count) expressions for \(k) state variables")
        }
        let updateVariables = graph.variables(in: update)
        if let wrong = updateVariables.first(where: { $0 >= k + 2 }) {
            throw PlasticityError.invalidModel(model: name, reason: "the state update reads \(graph.variableNames[wrong]), a value of the step it computes")
        }
        if let wrong = graph.variables(in: [spikeArgument]).first(where: { $0 < k + 2 }) {
            throw PlasticityError.invalidModel(model: name, reason: "the spike argument must depend on the new state only, but reads \(graph.variableNames[wrong])")
        }
        let spike = ExpressionGraph.apply(SpikePrimitive(surrogate: surrogate), [spikeArgument])
        self.spike = spike

        let a = (0..<k).map { graph.derivatives(of: update, withRespectTo: $0) }   // a[j][i] = ∂F_i/∂h_j
        stateJacobian = (0..<k).map { i in (0..<k).map { j in a[j][i] } }
        ownSpikeGain = graph.derivatives(of: update, withRespectTo: k)
        currentGain = graph.derivatives(of: update, withRespectTo: k + 1)
        spikeGradient = (0..<k).map { graph.derivatives(of: [spike], withRespectTo: k + 2 + $0)[0] }
        spikeArgumentGradient = (0..<k).map { graph.derivatives(of: [spikeArgument], withRespectTo: k + 2 + $0)[0] }
        structure = BlockStructure(
            stateNames: stateNames,
            a: stateJacobian.map { $0.map(EntryAnnotation.init) },
            r: ownSpikeGain.map(EntryAnnotation.init),
            b: currentGain.map(EntryAnnotation.init),
            c: spikeGradient.map(EntryAnnotation.init),
            coupling: graph.readsOtherNeurons ? .dense : .diagonal)
    }

    /// A block entry the step kernel can compute.
    public enum BlockEntry: Hashable, Sendable {
        case stateJacobian(row: Int, column: Int)
        case ownSpikeGain(Int)
        case currentGain(Int)
        case spikeGradient(Int)
    }

    /// The expression of `entry`.
    public func expression(of entry: BlockEntry) -> Sym {
        switch entry {
        case .stateJacobian(let i, let j): return stateJacobian[i][j]
        case .ownSpikeGain(let i): return ownSpikeGain[i]
        case .currentGain(let i): return currentGain[i]
        case .spikeGradient(let j): return spikeGradient[j]
        }
    }

    /// Every entry of A, r, b and c.
    public var allEntries: [BlockEntry] {
        let k = stateCount
        return (0..<k).flatMap { i in (0..<k).map { BlockEntry.stateJacobian(row: i, column: $0) } }
            + (0..<k).map(BlockEntry.ownSpikeGain) + (0..<k).map(BlockEntry.currentGain) + (0..<k).map(BlockEntry.spikeGradient)
    }

    /// Every entry whose annotation is `varying`: the ones a kernel must compute per step.
    public var varyingEntries: [BlockEntry] {
        allEntries.filter { expression(of: $0).constantValue == nil }
    }

    /// Compiles one fused kernel computing the new state, the spike and the requested block
    /// entries (by default every varying one) for a batch × population at once.
    public func makeStepKernel<T: KernelScalar>(_: T.Type = T.self, entries: [BlockEntry]? = nil, spikes: ExpressionGraph.SpikeMode = .heaviside) -> NeuronStepKernel<T> {
        NeuronStepKernel(neuron: self, entries: entries ?? varyingEntries, spikes: spikes)
    }
}

extension ExpressionGraph {
    /// The variable slots that `outputs` depend on.
    func variables(in outputs: [Sym]) -> Set<Int> {
        var seen = Set<Int>(), found = Set<Int>()
        var stack = outputs.compactMap { $0.graph == nil ? nil : node(of: $0) }
        while let node = stack.popLast() {
            guard seen.insert(node).inserted else { continue }
            if case .variable(let slot) = nodes[node].operation { found.insert(slot) }
            stack.append(contentsOf: nodes[node].arguments)
        }
        return found
    }

    /// Whether any primitive in the graph reads other neurons.
    var readsOtherNeurons: Bool {
        nodes.contains { if case .apply(let p) = $0.operation { return p.readsOtherNeurons } else { return false } }
    }
}
