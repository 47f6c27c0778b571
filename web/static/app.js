// Draws the map of a results page over the list that is already there:
// markers from the page's #map-data, clustered when many; tiles from the
// node's configured tile server, if any. Without this script, or when
// tiles do not load, the list still says everything the map shows.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var dataEl = document.getElementById("map-data");
  if (!el || !dataEl || typeof L === "undefined") {
    return;
  }
  var data;
  try {
    data = JSON.parse(dataEl.textContent);
  } catch (e) {
    return;
  }
  if (!data.markers || data.markers.length === 0) {
    el.hidden = true;
    return;
  }
  // The zoom range is the map's own, not only its tile layer's: without
  // tiles (tile server "none") or before they load, the marker cluster
  // layer needs it ("Map has no maxZoom specified") and no marker shows.
  var map = L.map(el, { scrollWheelZoom: false, minZoom: 3, maxZoom: 19 });
  if (data.tiles) {
    L.tileLayer(data.tiles, { minZoom: 3, maxZoom: 19, attribution: data.attribution || "" }).addTo(map);
  }
  var group = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup() : L.featureGroup();
  var bounds = [];
  data.markers.forEach(function (m) {
    var link = document.createElement("a");
    link.href = m.url;
    link.textContent = m.name;
    var box = document.createElement("div");
    box.appendChild(link);
    if (m.info) {
      var info = document.createElement("div");
      info.textContent = m.info;
      box.appendChild(info);
    }
    var marker = L.marker([m.lat, m.lon], { title: m.name, alt: m.name });
    marker.bindPopup(box);
    group.addLayer(marker);
    bounds.push([m.lat, m.lon]);
  });
  map.addLayer(group);
  map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
  el.setAttribute("data-markers", String(data.markers.length));
})();
