/// The release of synapsefs: `synapsefs --version`, `status.json`, the packages.
public enum SynapseVersion {
    public static let current = "0.11.0"
}
