import Foundation

/// State traces of a few neurons over time, one panel per state variable stacked vertically,
/// with each neuron's spikes (threshold crossings) as ticks above its panel and as dashed
/// lines through it: what a plugin author looks at first when a model misbehaves.
struct TracePlot {
    struct Panel {
        let variable: String
        /// values[neuron][step].
        let values: [[Double]]
    }

    let title: String
    let panels: [Panel]
    /// spikes[neuron]: the steps at which it spiked.
    let spikes: [[Int]]
    let neuronLabels: [String]
    private let width = 900.0, panelHeight = 180.0, left = 80.0, top = 50.0, gap = 60.0

    var svg: String {
        let steps = panels.first?.values.first?.count ?? 0
        let height = top + Double(panels.count) * (panelHeight + gap) + 20
        var body = [#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width + left + 160))" height="\#(Int(height))" font-family="sans-serif" font-size="12">"#,
                    #"<rect width="100%" height="100%" fill="white"/>"#,
                    SVGChart.text((width + left) / 2, 24, title, size: 16, anchor: "middle", weight: "bold")]
        let xAxis = Axis(low: 0, high: Double(Swift.max(steps - 1, 1)), logarithmic: false, length: width)
        for (index, panel) in panels.enumerated() {
            let y0 = top + Double(index) * (panelHeight + gap)
            body.append(self.panel(panel, y0: y0, xAxis: xAxis))
        }
        for (neuron, label) in neuronLabels.enumerated() {
            let color = SVGChart.palette[neuron % SVGChart.palette.count], y = top + 14 + Double(neuron) * 16
            body.append(#"<rect x="\#(SVGChart.coordinate(left + width + 20))" y="\#(SVGChart.coordinate(y - 9))" width="10" height="10" fill="\#(color)"/>"#)
            body.append(SVGChart.text(left + width + 36, y, "\(label) (\(spikes[neuron].count) spikes)"))
        }
        body.append("</svg>")
        return body.joined(separator: "\n")
    }

    private func panel(_ panel: Panel, y0: Double, xAxis: Axis) -> String {
        var parts = [##"<rect x="\##(SVGChart.coordinate(left))" y="\##(SVGChart.coordinate(y0))" width="\##(SVGChart.coordinate(width))" height="\##(SVGChart.coordinate(panelHeight))" fill="none" stroke="#444"/>"##,
                     SVGChart.text(left - 60, y0 + panelHeight / 2, panel.variable, anchor: "middle", rotate: true)]
        let finite = panel.values.flatMap { $0 }.filter(\.isFinite)
        guard var low = finite.min(), var high = finite.max() else { return parts.joined(separator: "\n") }
        if high - low < 1e-12 { (low, high) = (low - 1, high + 1) }
        let margin = (high - low) * 0.05
        let yAxis = Axis(low: low - margin, high: high + margin, logarithmic: false, length: panelHeight)
        for tick in yAxis.ticks {
            let y = y0 + panelHeight - yAxis.position(tick)
            parts.append(SVGChart.line(left - 4, y, left, y) + SVGChart.text(left - 6, y + 4, SVGChart.compact(tick), anchor: "end"))
        }
        for tick in xAxis.ticks {
            let x = left + xAxis.position(tick)
            parts.append(SVGChart.line(x, y0 + panelHeight, x, y0 + panelHeight + 4) + SVGChart.text(x, y0 + panelHeight + 16, SVGChart.compact(tick), anchor: "middle"))
        }
        parts.append(SVGChart.text(left + width / 2, y0 + panelHeight + 32, "time step", anchor: "middle"))
        for (neuron, values) in panel.values.enumerated() {
            let color = SVGChart.palette[neuron % SVGChart.palette.count]
            let points = values.enumerated().filter { $0.element.isFinite }.map { step, value in
                SVGChart.coordinate(left + xAxis.position(Double(step))) + "," + SVGChart.coordinate(y0 + panelHeight - yAxis.position(value))
            }
            parts.append(#"<polyline fill="none" stroke="\#(color)" stroke-width="1.5" points="\#(points.joined(separator: " "))"/>"#)
            for step in spikes[neuron] {
                let x = SVGChart.coordinate(left + xAxis.position(Double(step)))
                let tick = y0 - 4 - Double(neuron) * 3
                parts.append(#"<line x1="\#(x)" y1="\#(SVGChart.coordinate(tick - 3))" x2="\#(x)" y2="\#(SVGChart.coordinate(tick))" stroke="\#(color)" stroke-width="1.5"/>"#)
                parts.append(#"<line x1="\#(x)" y1="\#(SVGChart.coordinate(y0))" x2="\#(x)" y2="\#(SVGChart.coordinate(y0 + panelHeight))" stroke="\#(color)" stroke-width="0.5" stroke-dasharray="2 3"/>"#)
            }
        }
        return parts.joined(separator: "\n")
    }
}
