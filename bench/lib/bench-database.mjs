// A throwaway PostgreSQL database for a bench run: created on TWELVE_BENCH_DATABASE_URL's server
// (default postgres://postgres@127.0.0.1:5432/postgres), dropped by drop().
export async function benchDatabase(prefix) {
  const { default: pg } = await import('pg');
  const adminUrl = process.env.TWELVE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const name = `${prefix}_${Date.now().toString(36)}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { pg, name, url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
