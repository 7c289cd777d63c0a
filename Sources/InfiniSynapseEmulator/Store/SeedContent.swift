import Foundation

/// What seeded tasks hold: a name, a short transcript ending in `completion_result`, and a
/// workspace with markdown, CSV and SVG files, one of them in a subfolder.
enum SeedContent {
    static let topics = ["quarterly sales trends", "churn by region", "supplier delays", "support ticket themes",
                         "marketing spend efficiency", "inventory turnover", "hiring pipeline", "cloud cost drivers"]
    static let epoch = Date(timeIntervalSince1970: 1_767_225_600) // 2026-01-01T00:00:00Z

    static func taskId(_ index: Int) -> String {
        String(format: "5eed0000-0000-4000-8000-%012d", index)
    }

    static func topic(_ index: Int) -> String { topics[index % topics.count] }

    static func task(index: Int) -> EmulatedTask {
        let created = epoch.addingTimeInterval(Double(index) * 60)
        let ts = Int64(created.timeIntervalSince1970 * 1000)
        let topic = topic(index)
        let messages = [
            EmulatedMessage(ts: ts, type: "say", say: "task", text: "Analyse \(topic) and write a short report."),
            EmulatedMessage(ts: ts + 1000, type: "say", say: "text", text: "Reading the data for \(topic)."),
            EmulatedMessage(ts: ts + 2000, type: "say", say: "text",
                            text: "Found three notable patterns in \(topic); summarising them in a table."),
            EmulatedMessage(ts: ts + 3000, type: "say", say: "text", text: "Drawing the trend chart."),
            EmulatedMessage(ts: ts + 4000, type: "say", say: "completion_result",
                            text: "Done: report.md, summary.csv and charts/trend.svg are in the workspace."),
        ]
        return EmulatedTask(id: taskId(index), name: "Seeded task \(index): \(topic)", status: "completed",
                            createdAt: created, updatedAt: created.addingTimeInterval(4),
                            messages: messages, seedIndex: index)
    }

    static func writeWorkspace(index: Int, to dir: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("charts"), withIntermediateDirectories: true)
        let topic = topic(index)
        let report = "# Report \(index): \(topic)\n\nThree patterns stand out in \(topic).\n\n1. Growth in the north.\n2. A dip in March.\n3. Recovery by June.\n"
        var csv = "month,value\n"
        for m in 1...12 { csv += "2025-\(String(format: "%02d", m)),\((index * 7 + m * 13) % 100)\n" }
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"40\"><polyline points=\"0,30 40,\(10 + index % 20) 80,20 120,5\" fill=\"none\" stroke=\"black\"/></svg>\n"
        try Data(report.utf8).write(to: dir.appendingPathComponent("report.md"))
        try Data(csv.utf8).write(to: dir.appendingPathComponent("summary.csv"))
        try Data(svg.utf8).write(to: dir.appendingPathComponent("charts/trend.svg"))
    }
}
