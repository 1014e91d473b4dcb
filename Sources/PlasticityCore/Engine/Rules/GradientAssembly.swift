import PlasticityBase

/// Turns the rules' internal gradient layouts — per population, W_in (within-step projections
/// and the bias column) and W_rec (delayed projections) as N × columns matrices, the
/// readout's C × ΣN_read weights, and each trained neuron parameter's gradient per neuron —
/// into named tensors, with masked entries zero and a shared parameter's gradient summed
/// over its neurons.
enum GradientAssembly {
    /// - Parameters:
    ///   - within: per population (step order), N × withinColumns, row j at j·withinColumns.
    ///   - delayed: per population, N × delayedColumns.
    ///   - readoutWeights: C × ΣN_read.
    ///   - neuronParameters: per population, per trained parameter, N values (empty: none).
    static func assemble<T>(network: Network, within: [ScalarBuffer<T>], delayed: [ScalarBuffer<T>],
                            readoutWeights: ScalarBuffer<T>, readoutBias: ScalarBuffer<T>, neuronParameters: [[ScalarBuffer<T>]]) -> ParameterSet<T> {
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
        for (p, gradients) in neuronParameters.enumerated() {
            let population = network.populations[p]
            for (q, gradient) in zip(population.trainedParameters, gradients) {
                let perNeuron = Array(UnsafeBufferPointer(start: gradient.pointer, count: population.size))
                result[Network.parameterTensorName(population: population.name, parameter: population.parameters[q].name)] = population.parameters[q].isPerNeuron ? perNeuron : [perNeuron.reduce(0, +)]
            }
        }
        return result
    }
}
