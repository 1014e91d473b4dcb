import ArgumentParser
import Foundation
import PlasticityCore

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model (or a network) on given or generated input and write every state trace and spike (.npz) and a plot of a few neurons (.svg).",
        discussion: """
            With --model, N neurons of the model are driven directly by input currents: each neuron its own constant current, spaced over --current LOW:HIGH, \
            plus Gaussian noise (--noise), or the array 'inputs' (T, N) of an --inputs .npz. With --network, the network's inputs are Poisson spikes \
            (--input-rate) or the --inputs array (T, I), and its weights are drawn (--seed) or read (--weights). The .npz holds 'input' (T, I) and, per \
            population P, 'P.STATE' (T, N) for each state variable after each step and 'P.spikes' (T, N). A state that becomes NaN or infinite stops \
            the run with its model, population, variable, neuron and step; what ran until then is still written.
            """)

    @Option(help: "The neuron model to simulate (N neurons driven by currents).")
    var model: String?

    @OptionGroup var settings: ModelSettings
    @OptionGroup var pluginOptions: PluginOptions

    @Option(help: "A network file (JSON; Documentation/Networks.md) to simulate instead of one model.")
    var network: String?

    @Option(help: "Weights of the --network (.npz, named as Documentation/Networks.md lists them); drawn with --seed if not given.")
    var weights: String?

    @Option(help: "Neurons of --model.")
    var neurons = 8

    @Option(help: "Time steps.")
    var steps = 200

    @Option(help: "--model: the constant input current of each neuron, one value or LOW:HIGH spaced over the neurons.")
    var current = "0:2"

    @Option(help: "--model: standard deviation of Gaussian noise added to each current at each step.")
    var noise = 0.0

    @Option(help: "--network: probability of an input spike per input and step.")
    var inputRate = 0.05

    @Option(help: "Inputs (.npz with an array 'inputs' of shape (T, I)), instead of generated ones.")
    var inputs: String?

    @Option(help: "Seed of generated inputs and drawn weights.")
    var seed: UInt64 = 1

    @Option(help: "Where to write the traces (.npz).")
    var out: String

    @Option(help: "Where to write the plot (.svg).")
    var plot: String?

    @Option(help: "Neurons shown in the plot (of the first population, or --population).")
    var plotNeurons = 4

    @Option(help: "The population to plot (default: the first).")
    var population: String?

    /// Traces kept in memory at most (they are written at the end).
    static let traceBudget = 1 << 30

    func validate() throws {
        guard (model == nil) != (network == nil) else { throw ValidationError("give either --model or --network") }
        guard (1...1_000_000).contains(steps) else { throw ValidationError("--steps must be in 1…1000000, got \(steps)") }
        // Each neuron has its own input (an N × N identity of weights): a few thousand at most.
        guard (1...2_000).contains(neurons) else { throw ValidationError("--neurons must be in 1…2000, got \(neurons)") }
        guard noise.isFinite, noise >= 0 else { throw ValidationError("--noise must be a finite standard deviation ≥ 0, got \(noise)") }
        guard inputRate.isFinite, (0...1).contains(inputRate) else { throw ValidationError("--input-rate must be a probability in [0, 1], got \(inputRate)") }
        guard (1...8).contains(plotNeurons) else { throw ValidationError("--plot-neurons must be in 1…8, got \(plotNeurons)") }
        if weights != nil, network == nil { throw ValidationError("--weights belongs to a --network") }
        _ = try currentRange()
    }

    /// --current as (low, high).
    func currentRange() throws -> (Double, Double) {
        let parts = current.split(separator: ":", omittingEmptySubsequences: false).map { Double($0) }
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0?.isFinite == true }) else {
            throw ValidationError("--current expects a number or LOW:HIGH, got '\(current)'")
        }
        return (parts[0]!, parts.last!!)
    }

    func run() throws {
        try OutputFile.checkWritable(out, option: "--out")
        if let plot { try OutputFile.checkWritable(plot, option: "--plot") }
        let registry = try pluginOptions.loadRegistry()
        let given = try inputs.map { path -> NumPyArray in
            guard let array = try NumPyArchive.read(URL(fileURLWithPath: path))["inputs"] else { throw ValidationError("\(path) has no array 'inputs'") }
            guard array.shape.count == 2, array.shape[0] == steps else {
                throw ValidationError("'inputs' of \(path) has shape \(array.shape), expected (\(steps), inputs) for --steps \(steps)")
            }
            return array
        }
        let (network, parameters) = try build(registry: registry, inputWidth: given?.shape[1])
        let inputWidth = network.inputs
        if let given, given.shape[1] != inputWidth {
            throw ValidationError("'inputs' has \(given.shape[1]) columns, but the \(model == nil ? "network has \(inputWidth) inputs" : "model has \(inputWidth) neurons")")
        }
        let perStep = inputWidth + network.populations.reduce(0) { $0 + $1.size * ($1.neuron.stateCount + 1) }
        guard perStep.multipliedReportingOverflow(by: steps * MemoryLayout<Double>.size).partialValue <= Self.traceBudget else {
            throw ValidationError("\(steps) steps of \(perStep) values each exceed the \(Self.traceBudget >> 20) MiB kept for traces; simulate fewer steps or neurons")
        }
        let input = try given?.doubles ?? generatedInputs(width: inputWidth)

        let forward = try ForwardPass<Double>(network: network, parameters: parameters, batch: 1)
        var traces = Traces(network: network, steps: steps)
        var failure: Error?
        input.withUnsafeBufferPointer { values in
            for t in 0..<steps {
                forward.step(input: values.baseAddress! + t * inputWidth)
                traces.record(forward)
                if let (state, value) = forward.firstNonFiniteState() {
                    failure = PlasticityError.nonFinite(quantity: state, value: "\(value)", location: "time step \(t)")
                    break
                }
            }
        }
        try traces.write(input: input, inputWidth: inputWidth, to: out)
        print(traces.summary(network))
        print("traces: \(out)")
        if let plot {
            let shown = try traces.plot(network, population: population, neurons: plotNeurons, title: "\(model ?? network.populations.map(\.neuron.name).joined(separator: ", ")): \(traces.recorded) steps")
            try Data(shown.utf8).write(to: URL(fileURLWithPath: plot))
            print("plot: \(plot)")
        }
        if let failure { throw failure }
    }

    /// The network and weights: one population driven one-to-one by the inputs (--model), or
    /// the --network file with drawn or given weights.
    private func build(registry: ModelRegistry, inputWidth: Int?) throws -> (Network, ParameterSet<Double>) {
        if let network {
            let file = try NetworkFile.load(network)
            let built = try file.build(registry: registry, inputs: file.inputs == nil ? inputWidth : nil, outputs: file.outputs == nil ? 1 : nil,
                                       seed: settings.parameterSeed, loadArray: NetworkArrays.parameterArray)
            let parameters: ParameterSet<Double> = try weights.map { try NetworkArrays.readWeights(NumPyArchive.read(URL(fileURLWithPath: $0)), file: $0, network: built) }
                ?? ParameterSet(randomFor: built, seed: seed)
            return (built, parameters)
        }
        let description = try registry.model(named: model!).model
        let population = try Network.Population(name: "hidden", model: description, size: neurons, bias: false, settings: try settings.settings(),
                                                loadArray: NetworkArrays.parameterArray)
        let built = try Network(inputs: neurons, populations: [population],
                                projections: [ProjectionDescription(source: Network.inputName, target: "hidden")],
                                readout: ReadoutDescription(sources: ["hidden"], outputs: 1))
        var parameters = ParameterSet<Double>(randomFor: built, seed: seed)
        // Each input is its neuron's current: I = x.
        parameters["hidden.input"] = (0..<(neurons * neurons)).map { $0 / neurons == $0 % neurons ? 1 : 0 }
        return (built, parameters)
    }

    /// Currents spaced over --current with --noise (--model), or Poisson spikes (--network).
    private func generatedInputs(width: Int) throws -> [Double] {
        var generator = SeededGenerator(seed: seed)
        if model != nil {
            let (low, high) = try currentRange()
            let levels = (0..<width).map { width == 1 ? low : low + (high - low) * Double($0) / Double(width - 1) }
            return (0..<steps).flatMap { _ in levels.map { $0 + noise * generator.nextGaussian() } }
        }
        return (0..<(steps * width)).map { _ in Double.random(in: 0..<1, using: &generator) < inputRate ? 1 : 0 }
    }
}

/// Every population's states and spikes, step by step.
private struct Traces {
    /// values[population][variable]: T × N, the last variable being the spikes.
    private var values: [[[Double]]]
    /// names[population][variable]: `P.STATE`, and `P.spikes` last.
    private let names: [[String]]
    private let sizes: [Int]
    private(set) var recorded = 0

    init(network: Network, steps: Int) {
        names = network.populations.map { population in population.neuron.stateNames.map { "\(population.name).\($0)" } + ["\(population.name).spikes"] }
        sizes = network.populations.map(\.size)
        values = network.populations.map { population in
            (0...population.neuron.stateCount).map { _ in
                var column: [Double] = []
                column.reserveCapacity(steps * population.size)
                return column
            }
        }
    }

    mutating func record(_ forward: ForwardPass<Double>) {
        for (p, pass) in forward.populations.enumerated() {
            for (i, buffer) in pass.state.enumerated() { values[p][i].append(contentsOf: UnsafeBufferPointer(start: buffer.pointer, count: pass.size)) }
            values[p][pass.state.count].append(contentsOf: UnsafeBufferPointer(start: pass.spike.pointer, count: pass.size))
        }
        recorded += 1
    }

    func write(input: [Double], inputWidth: Int, to path: String) throws {
        var arrays = ["input": NumPyArray(Array(input.prefix(recorded * inputWidth)), shape: [recorded, inputWidth])]
        for p in values.indices {
            for (i, name) in names[p].enumerated() { arrays[name] = NumPyArray(values[p][i], shape: [recorded, sizes[p]]) }
        }
        try NumPyArchive.write(arrays, to: URL(fileURLWithPath: path))
    }

    /// Per population: spikes, rate, and each state's range.
    func summary(_ network: Network) -> String {
        network.populations.enumerated().map { p, population in
            let spikes = values[p].last!.reduce(0, +)
            let rate = spikes / Double(Swift.max(1, recorded * sizes[p]))
            let ranges = population.neuron.stateNames.enumerated().map { i, name in
                let finite = values[p][i].filter(\.isFinite)
                return "\(name) in [\(SVGChart.compact(finite.min() ?? .nan)), \(SVGChart.compact(finite.max() ?? .nan))]"
            }
            return "\(population.name) (\(population.neuron.name), \(sizes[p]) neurons): \(Int(spikes)) spikes in \(recorded) steps (\(String(format: "%.3f", rate)) per neuron and step); "
                + ranges.joined(separator: ", ")
        }.joined(separator: "\n")
    }

    /// The first `neurons` neurons of `population` (default the first one).
    func plot(_ network: Network, population name: String?, neurons: Int, title: String) throws -> String {
        let p = try name.map { wanted in
            guard let index = network.populations.firstIndex(where: { $0.name == wanted }) else {
                throw ValidationError("no population '\(wanted)'; the network has \(network.populations.map(\.name).joined(separator: ", "))")
            }
            return index
        } ?? 0
        let population = network.populations[p], n = sizes[p], shown = Swift.min(neurons, n)
        func series(_ variable: Int) -> [[Double]] { (0..<shown).map { j in (0..<recorded).map { values[p][variable][$0 * n + j] } } }
        let spikes = series(population.neuron.stateCount).map { row in row.indices.filter { row[$0] > 0 } }
        return TracePlot(title: "\(title), population \(population.name)",
                         panels: population.neuron.stateNames.enumerated().map { TracePlot.Panel(variable: $0.element, values: series($0.offset)) },
                         spikes: spikes, neuronLabels: (0..<shown).map { "neuron \($0)" }).svg
    }
}
