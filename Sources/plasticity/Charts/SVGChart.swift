import Foundation

/// A small SVG renderer for the tool's charts: bar panels and line plots, on linear or
/// logarithmic axes, laid out side by side. Output is a standalone SVG a browser opens.
struct SVGChart {
    struct Bar {
        let label: String
        let value: Double
        /// A second value drawn as a tick on the bar (e.g. the prediction).
        let marker: Double?
        let note: String
    }

    struct Series {
        let name: String
        let points: [(x: Double, y: Double)]
    }

    enum Panel {
        case bars(title: String, unit: String, logarithmic: Bool, bars: [Bar])
        case lines(title: String, xLabel: String, yLabel: String, logarithmic: Bool, series: [Series])
    }

    let title: String
    let panels: [Panel]
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
    private let panelWidth = 420.0, panelHeight = 320.0, margin = 75.0

    var svg: String {
        // Wide enough for the title (bold 16 px: ~9.5 px a character).
        let width = Swift.max(Double(panels.count) * (panelWidth + margin) + margin, Double(title.count) * 9.5 + 40)
        let height = panelHeight + 2 * margin + 40
        var body = [#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" font-family="sans-serif" font-size="12">"#,
                    #"<rect width="100%" height="100%" fill="white"/>"#,
                    Self.text(width / 2, 24, title, size: 16, anchor: "middle", weight: "bold")]
        for (index, panel) in panels.enumerated() {
            let x0 = margin + Double(index) * (panelWidth + margin), y0 = margin
            switch panel {
            case .bars(let title, let unit, let logarithmic, let bars):
                body.append(barPanel(x0, y0, title, unit, logarithmic, bars))
            case .lines(let title, let xLabel, let yLabel, let logarithmic, let series):
                body.append(linePanel(x0, y0, title, xLabel, yLabel, logarithmic, series))
            }
        }
        body.append("</svg>")
        return body.joined(separator: "\n")
    }

    private func barPanel(_ x0: Double, _ y0: Double, _ title: String, _ unit: String, _ logarithmic: Bool, _ bars: [Bar]) -> String {
        var parts = [Self.text(x0 + panelWidth / 2, y0 - 10, title, size: 13, anchor: "middle", weight: "bold")]
        let values = bars.flatMap { [$0.value] + ($0.marker.map { [$0] } ?? []) }.filter { $0 > 0 }
        guard let top = values.max() else { return parts.joined() }
        let axis = Axis(low: logarithmic ? (values.min()! / 2) : 0, high: top * (logarithmic ? 2 : 1.15), logarithmic: logarithmic, length: panelHeight)
        parts.append(frame(x0, y0))
        parts.append(contentsOf: axis.ticks.map { tick in
            let y = y0 + panelHeight - axis.position(tick)
            return Self.line(x0 - 4, y, x0, y) + Self.text(x0 - 6, y + 4, Self.compact(tick), anchor: "end")
        })
        parts.append(Self.text(x0 - 60, y0 + panelHeight / 2, unit, anchor: "middle", rotate: true))
        let slot = panelWidth / Double(Swift.max(bars.count, 1))
        for (index, bar) in bars.enumerated() {
            let x = x0 + Double(index) * slot + slot * 0.2, width = slot * 0.6
            let color = Self.palette[index % Self.palette.count]
            if bar.value > 0 {
                let h = axis.position(bar.value)
                parts.append(#"<rect x="\#(f(x))" y="\#(f(y0 + panelHeight - h))" width="\#(f(width))" height="\#(f(h))" fill="\#(color)"/>"#)
                parts.append(Self.text(x + width / 2, y0 + panelHeight - h - 4, Self.compact(bar.value), anchor: "middle"))
            }
            if let marker = bar.marker, marker > 0 {
                let y = y0 + panelHeight - axis.position(marker)
                parts.append(#"<line x1="\#(f(x - 4))" y1="\#(f(y))" x2="\#(f(x + width + 4))" y2="\#(f(y))" stroke="black" stroke-width="2" stroke-dasharray="4 2"/>"#)
            }
            parts.append(Self.text(x + width / 2, y0 + panelHeight + 16, bar.label, anchor: "middle"))
            parts.append(Self.text(x + width / 2, y0 + panelHeight + 30, bar.note, size: 10, anchor: "middle"))
        }
        return parts.joined(separator: "\n")
    }

    private func linePanel(_ x0: Double, _ y0: Double, _ title: String, _ xLabel: String, _ yLabel: String, _ logarithmic: Bool, _ series: [Series]) -> String {
        var parts = [Self.text(x0 + panelWidth / 2, y0 - 10, title, size: 13, anchor: "middle", weight: "bold"), frame(x0, y0)]
        let xs = series.flatMap { $0.points.map(\.x) }.filter { $0 > 0 }, ys = series.flatMap { $0.points.map(\.y) }.filter { $0 > 0 }
        guard let xMin = xs.min(), let xMax = xs.max(), let yMin = ys.min(), let yMax = ys.max() else { return parts.joined() }
        let xAxis = logarithmic ? Axis(low: xMin / 1.3, high: xMax * 1.3, logarithmic: true, length: panelWidth)
                                : Axis(low: 0, high: xMax * 1.05, logarithmic: false, length: panelWidth)
        let yAxis = logarithmic ? Axis(low: yMin / 1.5, high: yMax * 1.5, logarithmic: true, length: panelHeight)
                                : Axis(low: 0, high: yMax * 1.1, logarithmic: false, length: panelHeight)
        for tick in xAxis.ticks {
            let x = x0 + xAxis.position(tick)
            parts.append(Self.line(x, y0 + panelHeight, x, y0 + panelHeight + 4) + Self.text(x, y0 + panelHeight + 16, Self.compact(tick), anchor: "middle"))
        }
        for tick in yAxis.ticks {
            let y = y0 + panelHeight - yAxis.position(tick)
            parts.append(Self.line(x0 - 4, y, x0, y) + Self.text(x0 - 6, y + 4, Self.compact(tick), anchor: "end"))
        }
        parts.append(Self.text(x0 + panelWidth / 2, y0 + panelHeight + 34, xLabel, anchor: "middle"))
        parts.append(Self.text(x0 - 60, y0 + panelHeight / 2, yLabel, anchor: "middle", rotate: true))
        for (index, entry) in series.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let points = entry.points.filter { $0.x > 0 && $0.y > 0 }
                .map { (x0 + xAxis.position($0.x), y0 + panelHeight - yAxis.position($0.y)) }
            let coordinates = points.map { f($0.0) + "," + f($0.1) }.joined(separator: " ")
            parts.append(#"<polyline fill="none" stroke="\#(color)" stroke-width="2" points="\#(coordinates)"/>"#)
            parts.append(contentsOf: points.map { #"<circle cx="\#(f($0.0))" cy="\#(f($0.1))" r="3" fill="\#(color)"/>"# })
            let legendY = y0 + 14 + Double(index) * 16
            parts.append(#"<rect x="\#(f(x0 + 10))" y="\#(f(legendY - 9))" width="10" height="10" fill="\#(color)"/>"#)
            parts.append(Self.text(x0 + 26, legendY, entry.name))
        }
        return parts.joined(separator: "\n")
    }

    private func frame(_ x0: Double, _ y0: Double) -> String {
        ##"<rect x="\##(f(x0))" y="\##(f(y0))" width="\##(f(panelWidth))" height="\##(f(panelHeight))" fill="none" stroke="#444"/>"##
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> String {
        ##"<line x1="\##(coordinate(x1))" y1="\##(coordinate(y1))" x2="\##(coordinate(x2))" y2="\##(coordinate(y2))" stroke="#444"/>"##
    }

    static func text(_ x: Double, _ y: Double, _ content: String, size: Int = 12, anchor: String = "start", weight: String = "normal", rotate: Bool = false) -> String {
        let escaped = content.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        let transform = rotate ? #" transform="rotate(-90 \#(coordinate(x)) \#(coordinate(y)))""# : ""
        return #"<text x="\#(coordinate(x))" y="\#(coordinate(y))" font-size="\#(size)" text-anchor="\#(anchor)" font-weight="\#(weight)"\#(transform)>\#(escaped)</text>"#
    }

    private func f(_ value: Double) -> String { Self.coordinate(value) }

    /// An SVG coordinate: one decimal is finer than a pixel.
    static func coordinate(_ value: Double) -> String { String(format: "%.1f", value) }

    static func compact(_ value: Double) -> String {
        if value == 0 { return "0" }
        if Swift.abs(value) >= 1e4 || Swift.abs(value) < 1e-2 { return String(format: "%.1e", value) }
        return String(format: value >= 100 ? "%.0f" : "%.3g", value)
    }
}

/// A linear or logarithmic axis mapping values to [0, length].
struct Axis {
    let low: Double, high: Double, logarithmic: Bool, length: Double

    func position(_ value: Double) -> Double {
        if logarithmic {
            return (Foundation.log10(Swift.max(value, low)) - Foundation.log10(low)) / (Foundation.log10(high) - Foundation.log10(low)) * length
        }
        return (value - low) / (high - low) * length
    }

    var ticks: [Double] {
        if logarithmic {
            // Decades, and 2× and 5× between them when the axis spans few decades.
            let decades = (Int(Foundation.floor(Foundation.log10(low)))...Int(Foundation.ceil(Foundation.log10(high)))).map { Foundation.pow(10, Double($0)) }
            let multiples: [Double] = Foundation.log10(high / low) < 3 ? [1, 2, 5] : [1]
            return decades.flatMap { decade in multiples.map { $0 * decade } }.filter { $0 >= low && $0 <= high }
        }
        // About five ticks at 1, 2 or 5 times a power of ten.
        let raw = (high - low) / 5, magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let residual = raw / magnitude
        let step = (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude
        return stride(from: Foundation.ceil(low / step) * step, through: high, by: step).map { $0 }
    }
}
