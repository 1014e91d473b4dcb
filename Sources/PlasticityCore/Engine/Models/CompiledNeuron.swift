import RealModule
import PlasticityBase

/// A neuron model traced, differentiated, annotated and ready to compile into kernels.
///
/// Variables of its graph: h[t-1] (one per state variable), z[t-1], I[t], then h[t] (read
/// only by the spike function, and aliased to the update when compiled), then the parameters
/// that are inputs of the step (`parameterInputs`: per neuron or trained, constant in time).
public final class CompiledNeuron {
    public let name: String
    public let stateNames: [String]
    public let initialState: [Double]
    /// The values each state variable typically takes, where its model states them.
    public let stateTypicalRanges: [ClosedRange<Double>?]
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
    /// The parameters that are inputs of the step, in slot order (empty: every parameter is
    /// folded into constants).
    public let parameterInputs: [String]
    /// P_mq = ∂F_m/∂θ_q, per state variable m and parameter input q.
    public let parameterGain: [[Sym]]
    /// ∂z[t]/∂θ_q = ψ(f)·∂f/∂θ_q at fixed h[t] (a threshold read by the spike argument).
    public let spikeParameterGain: [Sym]
    /// The valid range of each parameter input (the model's declaration).
    public let parameterInputRanges: [ClosedRange<Double>]
    /// The model's default of every parameter.
    private let defaults: [String: Double]
    /// Parameters the model cannot have trained, with the reason (`ModelDescription`).
    public let untrainableParameters: [String: String]

    /// The model's default value of parameter `name` (nil for an unknown name).
    public func defaultValue(of name: String) -> Double? { defaults[name] }

    /// The number of state variables k.
    public var stateCount: Int { stateNames.count }

    /// Graph variable slots.
    public func previousStateSlot(_ i: Int) -> Int { i }
    public var previousSpikeSlot: Int { stateCount }
    public var currentSlot: Int { stateCount + 1 }
    public func newStateSlot(_ i: Int) -> Int { stateCount + 2 + i }
    public func parameterSlot(_ q: Int) -> Int { 2 * stateCount + 2 + q }

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
                                                          range: formatRange(spec.validRange))
            }
            values[spec.name] = value
        }
        parameters = specs.map { ($0.name, values[$0.name]!) }
        defaults = Dictionary(specs.map { ($0.name, $0.defaultValue) }, uniquingKeysWith: { first, _ in first })
        untrainableParameters = model.untrainableParameters
        surrogate = configuration.surrogate ?? model.defaultSurrogate
        stateNames = model.stateVariables.map(\.name)
        initialState = model.stateVariables.map(\.initialValue)
        stateTypicalRanges = model.stateVariables.map(\.typicalRange)
        let k = stateNames.count
        guard k > 0 else { throw PlasticityError.invalidModel(model: name, reason: "it declares no state variables") }
        guard Set(stateNames).count == k else { throw PlasticityError.invalidModel(model: name, reason: "state variable names repeat") }

        for input in configuration.parameterInputs where !known.contains(input) {
            throw PlasticityError.unknownParameter(model: name, name: input, known: known)
        }
        guard Set(configuration.parameterInputs).count == configuration.parameterInputs.count else {
            throw PlasticityError.invalidModel(model: name, reason: "a parameter input is named twice")
        }
        parameterInputs = configuration.parameterInputs
        parameterInputRanges = configuration.parameterInputs.map { input in specs.first { $0.name == input }!.validRange }

        let stateNames = self.stateNames
        let graph = ExpressionGraph(variableNames: stateNames.map { "\($0)[t-1]" } + ["z[t-1]", "I[t]"] + stateNames.map { "\($0)[t]" }
                                    + configuration.parameterInputs)
        self.graph = graph
        let parameterSlots = (0..<configuration.parameterInputs.count).map { 2 * k + 2 + $0 }
        let parameterValues = ParameterValues(model: name, values: values,
                                              inputs: Dictionary(uniqueKeysWithValues: zip(configuration.parameterInputs, parameterSlots.map(graph.variable))))
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
        if let wrong = updateVariables.first(where: { (k + 2)..<(2 * k + 2) ~= $0 }) {
            throw PlasticityError.invalidModel(model: name, reason: "the state update reads \(graph.variableNames[wrong]), a value of the step it computes")
        }
        if let wrong = graph.variables(in: [spikeArgument]).first(where: { $0 < k + 2 }) {
            throw PlasticityError.invalidModel(model: name, reason: "the spike argument must depend on the new state only, but reads \(graph.variableNames[wrong])")
        }
        let spike = ExpressionGraph.apply(SpikePrimitive(surrogate: surrogate), [spikeArgument])
        self.spike = spike
        for (input, slot) in zip(configuration.parameterInputs, parameterSlots) where !graph.variables(in: update + [spikeArgument]).contains(slot) {
            throw PlasticityError.invalidModel(model: name, reason: "its step does not read parameter '\(input)' as a symbol (parameters.symbol(\"\(input)\")), so it cannot be set per neuron or trained")
        }

        let a = (0..<k).map { graph.derivatives(of: update, withRespectTo: $0) }   // a[j][i] = ∂F_i/∂h_j
        stateJacobian = (0..<k).map { i in (0..<k).map { j in a[j][i] } }
        ownSpikeGain = graph.derivatives(of: update, withRespectTo: k)
        currentGain = graph.derivatives(of: update, withRespectTo: k + 1)
        spikeGradient = (0..<k).map { graph.derivatives(of: [spike], withRespectTo: k + 2 + $0)[0] }
        spikeArgumentGradient = (0..<k).map { graph.derivatives(of: [spikeArgument], withRespectTo: k + 2 + $0)[0] }
        let perParameter = parameterSlots.map { graph.derivatives(of: update, withRespectTo: $0) }   // [q][m]
        parameterGain = (0..<k).map { m in perParameter.map { $0[m] } }
        spikeParameterGain = parameterSlots.map { graph.derivatives(of: [spike], withRespectTo: $0)[0] }
        let annotate = { (expression: Sym) in EntryAnnotation(expression, parameterSlots: Set(parameterSlots), in: graph) }
        structure = BlockStructure(
            stateNames: stateNames,
            a: stateJacobian.map { $0.map(annotate) },
            r: ownSpikeGain.map(annotate),
            b: currentGain.map(annotate),
            c: spikeGradient.map(annotate),
            coupling: graph.readsOtherNeurons ? .dense : .diagonal)
    }

    /// A block entry the step kernel can compute.
    public enum BlockEntry: Hashable, Sendable {
        case stateJacobian(row: Int, column: Int)
        case ownSpikeGain(Int)
        case currentGain(Int)
        case spikeGradient(Int)
        /// ∂F_state/∂θ_parameter (an index into `parameterInputs`).
        case parameterGain(state: Int, parameter: Int)
        /// ∂z/∂θ_parameter.
        case spikeParameterGain(Int)
    }

    /// The expression of `entry`.
    public func expression(of entry: BlockEntry) -> Sym {
        switch entry {
        case .stateJacobian(let i, let j): return stateJacobian[i][j]
        case .ownSpikeGain(let i): return ownSpikeGain[i]
        case .currentGain(let i): return currentGain[i]
        case .spikeGradient(let j): return spikeGradient[j]
        case .parameterGain(let m, let q): return parameterGain[m][q]
        case .spikeParameterGain(let q): return spikeParameterGain[q]
        }
    }

    /// Every entry of A, r, b and c.
    public var allEntries: [BlockEntry] {
        let k = stateCount
        return (0..<k).flatMap { i in (0..<k).map { BlockEntry.stateJacobian(row: i, column: $0) } }
            + (0..<k).map(BlockEntry.ownSpikeGain) + (0..<k).map(BlockEntry.currentGain) + (0..<k).map(BlockEntry.spikeGradient)
    }

    /// The entries a parameter input's gradient needs: ∂F/∂θ_q and ∂z/∂θ_q.
    public func parameterEntries(_ q: Int) -> [BlockEntry] {
        (0..<stateCount).map { BlockEntry.parameterGain(state: $0, parameter: q) } + [.spikeParameterGain(q)]
    }

    /// Those of `parameterEntries(q)` that are not constants: the ones a kernel computes.
    public func varyingParameterEntries(_ q: Int) -> [BlockEntry] {
        parameterEntries(q).filter { expression(of: $0).constantValue == nil }
    }

    /// Every entry of A, r, b and c that is not a constant: the ones a kernel must compute per
    /// step (a per-neuron constant is computed like a varying entry; it differs across neurons).
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

    /// Whether the graph applies a primitive whose partial derivatives are declared rather than
    /// built in (a C plugin's kernel, a Swift model's own primitive): then they can be wrong.
    var hasDeclaredPartials: Bool {
        nodes.indices.contains { node in
            guard let primitive = primitive(of: node) else { return false }
            return !(primitive is BuiltinOp) && !(primitive is SpikePrimitive)
        }
    }

    /// Whether any primitive in the graph reads other neurons.
    var readsOtherNeurons: Bool {
        nodes.contains { if case .apply(let p) = $0.operation { return p.readsOtherNeurons } else { return false } }
    }
}
