import Foundation

/// A folder of what the server lists beside its tasks (`agents/`, `orchestrations/`): a
/// folder per item, under its safe, unique name.
struct ServerItemsFolder<Item: Sendable>: FixedFolder {
    let fs: SynapseFilesystem
    let key: NodeKey
    let directory: ServerDirectory<Item>
    /// The key of an item's folder, by the item's id.
    let itemKey: (String) -> NodeKey
    var parent: NodeKey { .root }

    func child(named name: String) throws(FSError) -> NodeKey {
        guard let item = try directory.current().byFolder[name] else { throw .notFound(name) }
        return itemKey(directory.id(item))
    }

    func children() throws(FSError) -> [(name: String, key: NodeKey)] {
        let listed = try directory.current()
        return listed.items.compactMap { item in listed.folders[directory.id(item)].map { ($0, itemKey(directory.id(item))) } }
    }
}

/// An item's `info.json` (an agent's, an orchestration's): as the server describes it now.
struct ServerItemInfoFile<Item: Sendable>: Node {
    let fs: SynapseFilesystem
    let key: NodeKey
    let parent: NodeKey
    let directory: ServerDirectory<Item>
    let itemId: String
    let render: (Item) -> Data

    private func content() throws(FSError) -> Data { render(try directory.currentItem(id: itemId)) }

    func attributes(inode: UInt64) throws(FSError) -> FileAttributes {
        let size = try fs.renderings.value(for: key) { () throws(FSError) -> Data in try content() }.count
        return fs.generatedAttributes(inode, size: size, permissions: 0o444, modified: fs.mountedAt)
    }

    func open(_ mode: OpenMode) throws(FSError) -> OpenedFile {
        guard !mode.writing, !mode.truncating else { throw readOnly }
        return fs.openGenerated(try content(), for: key)
    }
}
