import Foundation
import PlasticityBase

/// The points at which the verifier checks a model: values of every variable of its graph
/// (h[t-1], z[t-1], I[t], h[t], then the parameter inputs θ), one column per variable.
///
/// Random states alone miss the region where models differ: a bug that shows only near or
/// above threshold, or right after a spike, is never sampled. So most points come from short
/// simulated trajectories, each neuron driven by a noisy current at its own strength (from
/// 0.01 to 100, so that some cross threshold whatever the model's scale), and are chosen to
/// include threshold crossings and the steps right after a spike. h[t] is set to h[t-1]: the
/// spike argument is checked at states the model really visits.
struct VerificationSamples {
    /// columns[variable][sample].
    var columns: [[Double]]
    /// For each sample, where it came from, in words.
    var origins: [String]
    var count: Int { origins.count }
    /// How many came from trajectories, and how many random states.
    var trajectoryCount = 0
    var randomCount = 0

    /// Trajectory neurons and steps: enough crossings for any spiking model at a cost of a
    /// few kernel calls.
    static let trajectoryNeurons = 24
    static let trajectorySteps = 120
    /// A state beyond this magnitude ends its trajectory: a model driven past its stable range
    /// (a voltage of 1e90) tells nothing about the states it meets in training.
    static let runaway = 1e6

    init(neuron: CompiledNeuron, options: VerificationOptions) {
        let k = neuron.stateCount, p = neuron.parameterInputs.count
        columns = Array(repeating: [], count: 2 * k + 2 + p)
        origins = []
        var generator = SeededGenerator(seed: options.seed)
        let theta = neuron.parameterInputs.map { name in neuron.parameters.first { $0.name == name }!.value }
        let data = neuron.parameterInputs.map { options.parameterData[$0].flatMap { $0.isEmpty ? nil : $0 } }
        // A population's own values where it gives them; else within ±25% of the value (inside
        // the model's range), so that a rule right only at one value is caught.
        let draw = { (generator: inout SeededGenerator) -> [Double] in
            (0..<p).map { q in
                if let values = data[q] { return values.randomElement(using: &generator)! }
                let range = neuron.parameterInputRanges[q]
                return Swift.min(Swift.max(theta[q] * (1 + Double.random(in: -0.25...0.25, using: &generator)), range.lowerBound), range.upperBound)
            }
        }
        let wanted = Swift.max(options.samples, 4)
        // A quarter at random states — within the ranges the model states for them, else around
        // the initial state (as a model author would test by hand); the rest on trajectories.
        let randomWanted = wanted / 4
        addTrajectories(neuron: neuron, drawParameters: draw, count: wanted - randomWanted, using: &generator)
        for _ in 0..<(wanted - count) {
            let state = zip(neuron.initialState, neuron.stateTypicalRanges).map { initial, range in
                range.map { Double.random(in: $0, using: &generator) } ?? initial + Double.random(in: -1...1, using: &generator) * Swift.max(1, Swift.abs(initial)) / 2
            }
            let parameters = draw(&generator)
            append(state: state, spike: Double.random(in: 0...1, using: &generator), current: Double.random(in: -2...2, using: &generator),
                   parameters: parameters, origin: "a random state")
            randomCount += 1
        }
    }

    private mutating func append(state: [Double], spike: Double, current: Double, parameters: [Double], origin: String) {
        let k = state.count
        for i in 0..<k {
            columns[i].append(state[i])
            columns[k + 2 + i].append(state[i])
        }
        columns[k].append(spike)
        columns[k + 1].append(current)
        for (q, value) in parameters.enumerated() { columns[2 * k + 2 + q].append(value) }
        origins.append(origin)
    }

    /// Simulates the trajectory neurons and keeps `count` of their steps: a third at threshold
    /// crossings (z[t] = 1 or z[t+1] = 1), a third right after a spike (z[t-1] = 1), the rest
    /// anywhere. A neuron whose state stops being finite or runs away (a drive too strong for
    /// its model) ends its trajectory there.
    private mutating func addTrajectories(neuron: CompiledNeuron, drawParameters: (inout SeededGenerator) -> [Double], count: Int,
                                          using generator: inout SeededGenerator) {
        let p = neuron.parameterInputs.count
        let k = neuron.stateCount, n = Self.trajectoryNeurons, steps = Self.trajectorySteps
        var aliases: [Int: Sym] = [:]
        for i in 0..<k { aliases[neuron.newStateSlot(i)] = neuron.update[i] }
        let kernel = StepKernel<Double>(graph: neuron.graph,
                                        inputSlots: (0..<k).map(neuron.previousStateSlot) + [neuron.previousSpikeSlot, neuron.currentSlot]
                                            + (0..<p).map(neuron.parameterSlot),
                                        aliases: aliases, outputs: neuron.update + [neuron.spikeArgument])
        let drives = (0..<n).map { Foundation.pow(10, -2 + 4 * Double($0) / Double(n - 1)) }
        let parameters = (0..<n).map { _ in drawParameters(&generator) }
        let parameterColumns = (0..<p).map { q in parameters.map { $0[q] } }
        var state = (0..<k).map { i in [Double](repeating: neuron.initialState[i], count: n) }
        var spike = [Double](repeating: 0, count: n)
        var alive = [Bool](repeating: true, count: n)
        // Each visited point: (neuron, step, h[t-1], z[t-1], I[t], z[t]).
        var points: [(neuron: Int, step: Int, state: [Double], spike: Double, current: Double, fired: Bool)] = []
        for step in 0..<steps {
            let current = drives.map { $0 * (1 + Double.random(in: -1.5...1.5, using: &generator)) }
            var results: [[Double]] = []
            withPointers(state + [spike, current] + parameterColumns) { inputs in
                results = withOutputArrays(k + 1, count: n) { kernel.run(inputs: inputs, outputs: $0, count: n) }
            }
            let next = Array(results[0..<k]), argument = results[k]
            for j in 0..<n where alive[j] {
                let newState = (0..<k).map { next[$0][j] }
                guard newState.allSatisfy({ $0.isFinite && Swift.abs($0) <= Self.runaway }), argument[j].isFinite else {
                    alive[j] = false
                    continue
                }
                points.append((j, step, (0..<k).map { state[$0][j] }, spike[j], current[j], argument[j] > 0))
            }
            state = next
            spike = argument.map { $0 > 0 ? 1 : 0 }
        }
        // Crossings: this step fires, or the next one of the same neuron does.
        var crossing = Set<Int>(), afterSpike = Set<Int>()
        for (index, point) in points.enumerated() {
            if point.fired { crossing.insert(index) }
            if index + 1 < points.count, points[index + 1].neuron == point.neuron, points[index + 1].fired { crossing.insert(index) }
            if point.spike == 1 { afterSpike.insert(index) }
        }
        var chosen: [Int] = []
        var taken = Set<Int>()
        func take(from pool: [Int], upTo limit: Int) {
            for index in pool.shuffled(using: &generator) where chosen.count < limit && taken.insert(index).inserted {
                chosen.append(index)
            }
        }
        take(from: crossing.sorted(), upTo: count / 3)
        take(from: afterSpike.sorted(), upTo: 2 * count / 3)
        take(from: Array(points.indices), upTo: count)
        for index in chosen.sorted() {
            let point = points[index]
            append(state: point.state, spike: point.spike, current: point.current, parameters: parameters[point.neuron],
                   origin: "step \(point.step) of a trajectory driven at I ≈ \(String(format: "%.3g", drives[point.neuron]))")
        }
        trajectoryCount = chosen.count
    }
}

extension VerificationSamples {
    /// A kernel computing `outputs` from every variable of the samples' graph (and, after them,
    /// the `frozen` stopGradient values, so that finite differences hold stopped paths fixed).
    func kernel(_ outputs: [Sym], of neuron: CompiledNeuron, frozen: [Sym] = []) -> StepKernel<Double> {
        StepKernel<Double>(graph: neuron.graph, inputSlots: Array(columns.indices), outputs: outputs, frozen: frozen)
    }

    /// `kernel`'s outputs at every sample (one array per output), all samples in one run;
    /// `replacing` swaps one variable's column (a finite-difference step).
    func evaluate(_ kernel: StepKernel<Double>, frozenValues: [[Double]] = [], replacing: (slot: Int, values: [Double])? = nil) -> [[Double]] {
        var inputs = columns + frozenValues
        if let replacing { inputs[replacing.slot] = replacing.values }
        var results: [[Double]] = []
        withPointers(inputs) { pointers in
            results = withOutputArrays(kernel.outputCount, count: count) { kernel.run(inputs: pointers, outputs: $0, count: count) }
        }
        return results
    }

    /// `outputs` at every sample.
    func evaluate(_ outputs: [Sym], of neuron: CompiledNeuron) -> [[Double]] { evaluate(kernel(outputs, of: neuron)) }
}

/// Calls `body` with pointers to each array's storage.
func withPointers<T>(_ arrays: [[T]], _ body: ([UnsafePointer<T>]) -> Void) {
    var pointers: [UnsafePointer<T>] = []
    func next(_ index: Int) {
        guard index < arrays.count else { return body(pointers) }
        arrays[index].withUnsafeBufferPointer { buffer in
            pointers.append(buffer.baseAddress!)
            next(index + 1)
        }
    }
    next(0)
}

/// Runs `body` with `outputs` fresh arrays of `count` values each, filled with `fill`, and
/// returns what it wrote.
func withOutputArrays(_ outputs: Int, count: Int, fill: Double = 0, _ body: ([UnsafeMutablePointer<Double>]) -> Void) -> [[Double]] {
    let storage = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, outputs * count))
    storage.initialize(repeating: fill, count: outputs * count)
    defer { storage.deallocate() }
    body((0..<outputs).map { storage + $0 * count })
    return (0..<outputs).map { Array(UnsafeBufferPointer(start: storage + $0 * count, count: count)) }
}
