//! Packs a submission's files into the tar archive that is uploaded into the
//! container's code volume (the only way to deliver files that works both on
//! the host and from inside a container that has only the Docker socket).

use anyhow::{Context, bail};

use super::SourceFile;

/// Folder inside the code volume that holds the files, and the working
/// directory of the program.
pub const WORK_DIR_NAME: &str = "code";

/// Owner of the files: root, so the unprivileged program cannot change them.
const ROOT: u64 = 0;
/// The sandbox user: owns the folder only when a compile step must write.
const NOBODY: u64 = 65534;

/// Builds the archive. `writable` makes the folder writable by the sandbox
/// user (for a compile step's outputs); otherwise nothing in it is.
pub fn pack(files: &[SourceFile], writable: bool) -> anyhow::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut folder = tar::Header::new_gnu();
    folder.set_entry_type(tar::EntryType::Directory);
    folder.set_mode(0o755);
    let owner = if writable { NOBODY } else { ROOT };
    folder.set_uid(owner);
    folder.set_gid(owner);
    folder.set_size(0);
    folder.set_mtime(0);
    builder
        .append_data(&mut folder, format!("{WORK_DIR_NAME}/"), std::io::empty())
        .context("cannot pack the code folder")?;
    for file in files {
        check_name(&file.name)?;
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_uid(ROOT);
        header.set_gid(ROOT);
        header.set_mtime(0);
        header.set_size(file.content.len() as u64);
        builder
            .append_data(
                &mut header,
                format!("{WORK_DIR_NAME}/{}", file.name),
                file.content.as_bytes(),
            )
            .with_context(|| format!("cannot pack the file {}", file.name))?;
    }
    builder.into_inner().context("cannot finish the archive")
}

/// A file name must stay inside the code folder: relative, no `..`, no
/// empty or hidden parts.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name.len() > 255 {
        bail!("file name must be 1 to 255 bytes long");
    }
    if name.starts_with('/') || name.contains('\\') || name.contains('\0') {
        bail!("file name {name:?} must be a relative path");
    }
    if name
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == ".." || part.starts_with('.'))
    {
        bail!("file name {name:?} must not contain empty, '.', '..' or hidden parts");
    }
    Ok(())
}

/// The names must lay out as a tree: none is used twice, and none is also
/// the folder of another (`a` and `a/b`), which the engine could not unpack.
pub fn check_layout<'a>(names: impl IntoIterator<Item = &'a str>) -> anyhow::Result<()> {
    let names: Vec<&str> = names.into_iter().collect();
    for (index, name) in names.iter().enumerate() {
        if names[..index].contains(name) {
            bail!("the file name {name} is used twice");
        }
        if let Some(folder) = names.iter().find(|other| {
            other.len() > name.len()
                && other.starts_with(name)
                && other.as_bytes()[name.len()] == b'/'
        }) {
            bail!("the file name {name} is also the folder of {folder}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_a_root_owned_folder_with_the_files() {
        let files = vec![SourceFile {
            name: "main.py".into(),
            content: "print('hi')".into(),
        }];
        let bytes = pack(&files, false).expect("packs");
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries: Vec<(String, u64, u32)> = archive
            .entries()
            .expect("entries")
            .map(|entry| {
                let entry = entry.expect("entry");
                let header = entry.header();
                (
                    entry.path().expect("path").display().to_string(),
                    header.uid().expect("uid"),
                    header.mode().expect("mode"),
                )
            })
            .collect();
        assert_eq!(
            entries,
            vec![
                ("code/".to_string(), 0, 0o755),
                ("code/main.py".to_string(), 0, 0o644)
            ]
        );
        let writable = pack(&files, true).expect("packs");
        let mut archive = tar::Archive::new(writable.as_slice());
        let first = archive
            .entries()
            .expect("entries")
            .next()
            .expect("one")
            .expect("ok");
        assert_eq!(first.header().uid().expect("uid"), NOBODY);
    }

    #[test]
    fn refuses_a_name_that_is_another_ones_folder() {
        assert!(check_layout(["main.py", "a", "a/b"]).is_err());
        assert!(check_layout(["a/b", "a"]).is_err());
        assert!(check_layout(["main.py", "ab", "a/b", "a/c"]).is_ok());
        assert!(check_layout(["main.py", "a.py", "main.py"]).is_err());
    }

    #[test]
    fn refuses_names_that_leave_the_folder() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            ".hidden",
            "a//b",
            "a\\b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["main.py", "src/lib.rs", "Main.java"] {
            assert!(check_name(good).is_ok(), "{good:?} refused");
        }
    }
}
