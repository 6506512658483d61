-- Ports a cluster refused (something else holds the nodePort): never
-- handed out again.
CREATE TABLE burned_ports (
	port      integer PRIMARY KEY,
	burned_at timestamptz NOT NULL DEFAULT now(),
	reason    text NOT NULL DEFAULT ''
);
