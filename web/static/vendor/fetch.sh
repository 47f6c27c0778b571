#!/bin/sh
# Fetches the front-end libraries the pages embed, at pinned versions,
# from the npm registry, and copies their files here unmodified with their
# licences. Run it from anywhere to refresh them; commit the result.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent leaflet@1.9.4 leaflet.markercluster@1.5.3 >/dev/null
mkdir leaflet markercluster
tar -xzf leaflet-1.9.4.tgz -C leaflet
tar -xzf leaflet.markercluster-1.5.3.tgz -C markercluster
mkdir -p "$here/leaflet/images" "$here/markercluster"
cp leaflet/package/dist/leaflet.js leaflet/package/dist/leaflet.css leaflet/package/LICENSE "$here/leaflet/"
cp leaflet/package/dist/images/marker-icon.png leaflet/package/dist/images/marker-icon-2x.png \
   leaflet/package/dist/images/marker-shadow.png "$here/leaflet/images/"
cp markercluster/package/dist/leaflet.markercluster.js markercluster/package/dist/MarkerCluster.css \
   markercluster/package/dist/MarkerCluster.Default.css markercluster/package/MIT-LICENCE.txt "$here/markercluster/"
echo "leaflet 1.9.4 and leaflet.markercluster 1.5.3 copied to $here"
