//! A test PKI made with the openssl CLI.

use std::os::unix::fs::chown;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::{run, tmpdir, user_ids};

/// Makes `user` own `path` (server keys must belong to the server's user).
pub fn give_to(user: &str, path: &Path) {
    let (uid, gid) = user_ids(user);
    chown(path, Some(uid), Some(gid)).unwrap();
}

/// A test PKI made with the openssl CLI: a CA, a server certificate for
/// 127.0.0.1/localhost, a client certificate, and an unrelated CA.
pub struct Pki {
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn make() -> Pki {
        let dir = tmpdir();
        let d = dir.path().to_path_buf();
        let ossl = |args: Vec<String>| run(Command::new("openssl").args(&args).current_dir(&d), "openssl");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].map(String::from);
        for ca in ["ca", "other-ca"] {
            let mut a: Vec<String> = vec!["req".into(), "-x509".into()];
            a.extend(ec.clone());
            a.extend([
                "-keyout".into(),
                format!("{ca}.key"),
                "-out".into(),
                format!("{ca}.crt"),
            ]);
            a.extend([
                "-days".into(),
                "2".into(),
                "-subj".into(),
                format!("/CN=healthgate test {ca}"),
            ]);
            ossl(a);
        }
        for (name, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
            let mut a: Vec<String> = vec!["req".into()];
            a.extend(ec.clone());
            a.extend([
                "-keyout".into(),
                format!("{name}.key"),
                "-out".into(),
                format!("{name}.csr"),
            ]);
            a.extend(["-subj".into(), format!("/CN={name}")]);
            ossl(a);
            std::fs::write(
                d.join(format!("{name}.ext")),
                format!(
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n"
                ),
            )
            .unwrap();
            let args = [
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.crt"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ];
            ossl(args.iter().map(|s| s.to_string()).collect());
        }
        Pki { dir }
    }
}
