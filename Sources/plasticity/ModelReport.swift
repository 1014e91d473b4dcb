import PlasticityCore

/// The text `plasticity inspect` prints.
struct ModelReport {
    let neuron: CompiledNeuron
    let model: RegisteredModel

    var text: String {
        var lines = ["\(neuron.name) — \(model.model.summary)", "plugin: \(model.source)", "", "state variables:"]
        for variable in model.model.stateVariables {
            lines.append("  \(variable.name)  (initial \(variable.initialValue))  \(variable.summary)")
        }
        lines.append("parameters:")
        let specs = model.model.parameters
        let width = specs.map(\.name.count).max() ?? 0
        for (spec, resolved) in zip(specs, neuron.parameters) {
            let value = neuron.parameterInputs.contains(spec.name) ? "per neuron (an input of the step)" : "\(resolved.value)"
            lines.append("  \(spec.name.padding(toLength: width, withPad: " ", startingAt: 0)) = \(value)  \(spec.summary)")
        }
        lines.append("surrogate: \(neuron.surrogate.key)")
        lines.append("coupling across neurons: \(neuron.structure.coupling.rawValue)")
        lines.append("")
        lines.append("state update F:")
        for (name, expression) in zip(neuron.stateNames, neuron.update) {
            lines.append("  \(name)[t] = \(expression)")
        }
        lines.append("spike: z[t] = spike(f),  f = \(neuron.spikeArgument)")
        let structure = neuron.structure
        for block in [structure.stateJacobian, structure.ownSpikeGain, structure.currentGain, structure.spikeGradient, structure.total] {
            lines.append("")
            lines.append(contentsOf: table(block))
        }
        lines.append("")
        lines.append("varying entries (computed per neuron and step by the fused kernel):")
        for entry in neuron.varyingEntries {
            lines.append("  \(label(entry)) = \(neuron.expression(of: entry))")
        }
        if !neuron.parameterInputs.isEmpty {
            lines.append("")
            lines.append("parameter gains (computed per neuron and step when the parameter is trained):")
            for q in neuron.parameterInputs.indices {
                for entry in neuron.parameterEntries(q) {
                    lines.append("  \(label(entry)) = \(neuron.expression(of: entry))")
                }
            }
        }
        lines.append("")
        lines.append("e-prop eligibility trace components:")
        for (name, storage) in zip(neuron.stateNames, structure.traceStorage) {
            lines.append("  ε_\(name): \(storage.rawValue)\(storage == .perPresynaptic ? " (collapsed)" : "")")
        }
        return lines.joined(separator: "\n")
    }

    private func table(_ block: AnnotatedBlock) -> [String] {
        let rowWidth = block.rowNames.map(\.count).max() ?? 0
        let cells = block.entries.map { $0.map(\.description) }
        let columnWidth = max(12, (cells.flatMap { $0 } + block.columnNames).map(\.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
        var lines = [block.title]
        lines.append("  " + pad("", rowWidth) + "  " + block.columnNames.map { pad($0, columnWidth) }.joined(separator: " "))
        for (name, row) in zip(block.rowNames, cells) {
            lines.append("  " + pad(name, rowWidth) + "  " + row.map { pad($0, columnWidth) }.joined(separator: " "))
        }
        return lines
    }

    private func label(_ entry: CompiledNeuron.BlockEntry) -> String {
        let names = neuron.stateNames
        switch entry {
        case .stateJacobian(let i, let j): return "∂\(names[i])[t]/∂\(names[j])[t-1]"
        case .ownSpikeGain(let i): return "∂\(names[i])[t]/∂z[t-1]"
        case .currentGain(let i): return "∂\(names[i])[t]/∂I[t]"
        case .spikeGradient(let j): return "∂z[t]/∂\(names[j])[t]"
        case .parameterGain(let m, let q): return "∂\(names[m])[t]/∂\(neuron.parameterInputs[q])"
        case .spikeParameterGain(let q): return "∂z[t]/∂\(neuron.parameterInputs[q])"
        }
    }
}
