/// Turns the rules' internal gradient layouts into a `ParameterSet`.
enum GradientAssembly {
    /// - Parameters:
    ///   - inputColumns: N × inputColumns: input weights, then the bias as the last column.
    ///   - recurrent: N × N, if the network is recurrent.
    static func assemble<T>(shape: NetworkShape, inputColumns: UnsafePointer<T>, recurrent: UnsafePointer<T>?,
                            outputWeights: UnsafePointer<T>, outputBias: UnsafePointer<T>) -> ParameterSet<T> {
        var result = ParameterSet<T>(zerosFor: shape)
        let columns = shape.inputColumns
        for j in 0..<shape.hidden {
            for i in 0..<shape.inputs { result.inputWeights[j * shape.inputs + i] = inputColumns[j * columns + i] }
            if shape.bias { result.bias[j] = inputColumns[j * columns + shape.inputs] }
        }
        if let recurrent { result.recurrentWeights = Array(UnsafeBufferPointer(start: recurrent, count: shape.hidden * shape.hidden)) }
        result.outputWeights = Array(UnsafeBufferPointer(start: outputWeights, count: shape.outputs * shape.hidden))
        result.outputBias = Array(UnsafeBufferPointer(start: outputBias, count: shape.outputs))
        return result
    }
}
