import PlasticityBase

/// Turns the rules' internal gradient layouts — per population, W_in (within-step projections
/// and the bias column) and W_rec (delayed projections) as N × columns matrices, and the
/// readout's C × ΣN_read weights — into named tensors, with masked entries zero.
enum GradientAssembly {
    /// - Parameters:
    ///   - within: per population (step order), N × withinColumns, row j at j·withinColumns.
    ///   - delayed: per population, N × delayedColumns.
    ///   - readoutWeights: C × ΣN_read.
    static func assemble<T>(network: Network, within: [ScalarBuffer<T>], delayed: [ScalarBuffer<T>],
                            readoutWeights: ScalarBuffer<T>, readoutBias: ScalarBuffer<T>) -> ParameterSet<T> {
        var result = ParameterSet<T>(zerosFor: network)
        for (p, layout) in network.layouts.enumerated() {
            func slice(_ blocks: [PopulationLayout.Block], _ source: ScalarBuffer<T>, columns: Int) {
                for block in blocks {
                    let projection = network.projections[block.projection]
                    var values = [T](repeating: 0, count: layout.size * block.width)
                    for j in 0..<layout.size {
                        for i in 0..<block.width { values[j * block.width + i] = source[j * columns + block.offset + i] }
                    }
                    if let mask = projection.mask { for index in values.indices where !mask[index] { values[index] = 0 } }
                    result[projection.name] = values
                }
            }
            slice(layout.within, within[p], columns: layout.withinColumns)
            slice(layout.delayed, delayed[p], columns: layout.delayedColumns)
            if let column = layout.biasColumn {
                result[network.biasName(p)] = (0..<layout.size).map { within[p][$0 * layout.withinColumns + column] }
            }
        }
        let width = network.readNeuronCount, outputs = network.outputs
        var column = 0
        for source in network.readout.sources {
            let n = network.populations[source].size
            var values = [T](repeating: 0, count: outputs * n)
            for c in 0..<outputs {
                for j in 0..<n { values[c * n + j] = readoutWeights[c * width + column + j] }
            }
            result[network.readoutWeightName(source)] = values
            column += n
        }
        result[Network.readoutBiasName] = Array(UnsafeBufferPointer(start: readoutBias.pointer, count: outputs))
        return result
    }
}
