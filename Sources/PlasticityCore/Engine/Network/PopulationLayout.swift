import PlasticityBase

/// How a population's incoming projections are laid out for the rules: every within-step
/// projection (and the bias, as a column of ones) is a block of columns of one presynaptic
/// vector x̂^p, every delayed projection a block of columns of a second one, ẑ^p. A
/// population then looks to each rule like the single population of old — W_in on x̂ and
/// W_rec on ẑ — and e-prop's traces, BPTT's adjoint and RTRL's influence carry over per
/// population unchanged.
package struct PopulationLayout {
    /// A projection's columns in x̂ or ẑ.
    package struct Block {
        /// Index into `Network.projections`.
        let projection: Int
        package let source: Network.Source
        let offset: Int
        package let width: Int
    }

    let population: Int
    package let size: Int
    /// Within-step blocks, then the bias column (if any) last.
    package let within: [Block]
    package let withinColumns: Int
    package let biasColumn: Int?
    let delayed: [Block]
    package let delayedColumns: Int

    init(population: Int, in populations: [Network.Population], projections: [Network.Projection], inputs: Int) {
        self.population = population
        size = populations[population].size
        func blocks(delayed: Bool) -> [Block] {
            var offset = 0
            return projections.indices.compactMap { index in
                let projection = projections[index]
                guard projection.target == population, projection.delayed == delayed else { return nil }
                let width: Int
                switch projection.source {
                case .input: width = inputs
                case .population(let source): width = populations[source].size
                }
                defer { offset += width }
                return Block(projection: index, source: projection.source, offset: offset, width: width)
            }
        }
        within = blocks(delayed: false)
        delayed = blocks(delayed: true)
        let withinWidth = within.reduce(0) { $0 + $1.width }
        biasColumn = populations[population].bias ? withinWidth : nil
        withinColumns = withinWidth + (populations[population].bias ? 1 : 0)
        delayedColumns = delayed.reduce(0) { $0 + $1.width }
    }

    /// The one population a delayed vector consists of, when it is exactly one population's
    /// spikes: then ẑ is that population's z_{t−1} itself and nothing is copied.
    package var soleDelayedSource: Int? {
        guard delayed.count == 1, case .population(let source) = delayed[0].source else { return nil }
        return source
    }

    /// Fills x̂ (B × withinColumns) or ẑ: each block from its source — `input` for the input
    /// group, `spikes(q)` for population q (B × N_q) — and ones in the bias column.
    func gather<T: KernelScalar>(_ blocks: [Block], columns: Int, into out: UnsafeMutablePointer<T>, batch: Int,
                                 input: UnsafePointer<T>?, spikes: (Int) -> UnsafePointer<T>, bias: Bool) {
        for block in blocks {
            let source: UnsafePointer<T>
            switch block.source {
            case .input: source = input!
            case .population(let q): source = spikes(q)
            }
            for b in 0..<batch { (out + b * columns + block.offset).update(from: source + b * block.width, count: block.width) }
        }
        if bias, let biasColumn {
            for b in 0..<batch { out[b * columns + biasColumn] = 1 }
        }
    }
}
