import ArgumentParser
import Glibc
import ImageStore
import PodrunCore

/// `podrun image`: the image store, as `ctr images` manages containerd's.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Import, list, inspect, tag, remove, prune and export images.",
        subcommands: [ImageImport.self, ImageList.self, ImageInspect.self, ImageTag.self, ImageRemove.self,
                      ImagePrune.self, ImageExport.self])
}

/// `podrun image import FILE|-`.
struct ImageImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a docker-archive or OCI image layout tarball (uncompressed, gzip or zstd), '-' for stdin.")

    @Argument(help: "The tarball, or - for standard input.") var file: String
    @Option(name: .long, help: "Store the archive's one image under this name.") var name: String?
    @Option(name: .long, help: "Refuse a layer that unpacks to more than this many bytes.")
    var maxLayerSize: Int64 = UnpackLimits().maxUnpackedBytes
    @Option(name: .long, help: "Refuse an archive whose files hold more than this many bytes in all.")
    var maxArchiveSize: Int64 = UnpackLimits().maxArchiveBytes
    @Option(name: [.short, .long], help: "table or json.") var format: ListFormat = .table

    func run() throws {
        var limits = UnpackLimits()
        limits.maxUnpackedBytes = maxLayerSize
        limits.maxArchiveBytes = maxArchiveSize
        let bar = ProgressBar(total: file == "-" ? nil : ProgressBar.fileSize(file))
        let records = try GlobalOptions.current.makeImageService()
            .importArchive(path: file, name: name, limits: limits, progress: bar.map { bar in { bar.update($0) } })
        bar?.finish()
        switch format {
        case .json: try JSONOutput.print(records)
        case .table: for record in records { print("imported \(record.name) (\(record.manifestDigest))") }
        }
    }
}

/// `podrun image ls`.
struct ImageList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images.", aliases: ["list"])

    @Option(name: [.short, .long], help: "table or json.") var format: ListFormat = .table
    @Flag(name: [.short, .long], help: "Print only the names.") var quiet = false

    func run() throws {
        let images = try GlobalOptions.current.makeImageService().list()
        if quiet {
            for image in images { print(image.name) }
            return
        }
        switch format {
        case .json: try JSONOutput.print(images)
        case .table:
            let rows = [["REF", "DIGEST", "SIZE", "CREATED"]] + images.map {
                [$0.name, $0.digest, ByteCount.text($0.size), $0.created ?? ""]
            }
            print(TextTable.render(rows), terminator: "")
        }
    }
}

/// `podrun image inspect REF`.
struct ImageInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show an image's record, manifest and config as JSON.")

    @Argument(help: "The image name or digest.") var reference: String

    func run() throws {
        try JSONOutput.print(try GlobalOptions.current.makeImageService().inspect(reference))
    }
}

/// `podrun image tag SRC DST`.
struct ImageTag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an image another name.")

    @Argument(help: "The image.") var source: String
    @Argument(help: "The new name.") var target: String

    func run() throws {
        print(try GlobalOptions.current.makeImageService().tag(source, as: target).name)
    }
}

/// `podrun image rm REF...`.
struct ImageRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove image names (blobs stay until prune).",
                                                    aliases: ["remove"])

    @Argument(help: "Image names or digests.") var references: [String]

    func run() throws {
        let service = GlobalOptions.current.makeImageService()
        for reference in references {
            for name in try service.remove(reference) { print(name) }
        }
    }
}

/// `podrun image prune`.
struct ImagePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove every blob and snapshot no image or container uses.")

    @Option(name: [.short, .long], help: "table or json.") var format: ListFormat = .table

    func run() throws {
        let report = try GlobalOptions.current.makeImageService().prune()
        switch format {
        case .json: try JSONOutput.print(report)
        case .table:
            print("removed \(report.blobs.count) blobs (\(ByteCount.text(report.bytes))), \(report.snapshots.count) snapshots, \(report.staging) staging leftovers")
        }
    }
}

/// `podrun image export REF... -o FILE`.
struct ImageExport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write images as an OCI image layout tarball.")

    @Option(name: [.short, .long], help: "The tarball to write, - for standard output.") var output: String
    @Argument(help: "Image names or digests.") var references: [String]

    func run() throws {
        if output == "-" && isatty(1) != 0 {
            throw PodrunError(.invalidArgument, "refusing to write a tarball to a terminal")
        }
        try GlobalOptions.current.makeImageService().export(references, to: output)
    }
}

/// Sizes as people read them.
enum ByteCount {
    static func text(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
