//! The goods of a CC015C or CC013C read into the single window's [`Consignment`], which every
//! administration on the route assesses before arrival. The README's *Risk on the route*
//! table lists which element gives which field.
//!
//! The message has passed the schema, so elements have their types; a value the consignment
//! cannot hold as such (a commodity code with letters, a country code not of two capitals) is
//! left out rather than refusing a schema-valid message. Where NCTS allows a value at several
//! levels (consignment, house consignment, item), the lowest level given wins.

use smartborder_transit::{Consignment, GoodsItem};

use crate::xml::Element;

/// The consignment of a declaration or amendment message.
pub fn consignment(root: &Element) -> Consignment {
    let Some(c) = root.child("Consignment") else {
        return Consignment {
            holder: holder(root),
            ..Consignment::default()
        };
    };
    let houses: Vec<&Element> = c.children_named("HouseConsignment").collect();
    let first_house = houses.first().copied();
    // The active border means first (what crosses the borders of the route), else the means at
    // departure, at consignment or house level.
    let means = c
        .child("ActiveBorderTransportMeans")
        .or_else(|| c.child("DepartureTransportMeans"))
        .or_else(|| first_house.and_then(|h| h.child("DepartureTransportMeans")));
    let seals = c
        .children_named("TransportEquipment")
        .filter_map(|e| e.text_at(&["numberOfSeals"])?.parse::<u32>().ok())
        .reduce(u32::saturating_add);
    let mut items = Vec::new();
    for house in &houses {
        for item in house.children_named("ConsignmentItem") {
            items.push(goods_item(house, item));
        }
    }
    Consignment {
        holder: holder(root),
        consignor: party(c.child("Consignor")),
        consignee: party(c.child("Consignee")),
        country_of_dispatch: country(c.text_at(&["countryOfDispatch"])),
        country_of_destination: country(c.text_at(&["countryOfDestination"])),
        transport_mode: text(c.text_at(&["modeOfTransportAtTheBorder"])),
        transport_nationality: country(means.and_then(|m| m.text_at(&["nationality"]))),
        transport_identification: text(means.and_then(|m| m.text_at(&["identificationNumber"]))),
        seals,
        guarantee_type: text(root.text_at(&["Guarantee", "guaranteeType"])),
        previous_document: text(c.text_at(&["PreviousDocument", "type"])),
        items,
    }
}

fn goods_item(house: &Element, item: &Element) -> GoodsItem {
    let commodity = item.child("Commodity");
    let code = commodity
        .and_then(|c| c.child("CommodityCode"))
        .and_then(|cc| {
            let hs = cc.text_at(&["harmonizedSystemSubHeadingCode"])?;
            let cn = cc
                .text_at(&["combinedNomenclatureCode"])
                .unwrap_or_default();
            let code = format!("{hs}{cn}");
            let digits = (2..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit());
            digits.then_some(code)
        });
    let measure = |name: &str| {
        commodity
            .and_then(|c| c.text_at(&["GoodsMeasure", name]))
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    GoodsItem {
        commodity_code: code,
        description: commodity
            .and_then(|c| c.text_at(&["descriptionOfGoods"]))
            .unwrap_or_default()
            .to_string(),
        gross_mass_kg: measure("grossMass"),
        net_mass_kg: measure("netMass"),
        supplementary_units: measure("supplementaryUnits"),
        value: None,
        country_of_origin: None,
        country_of_dispatch: country(item.text_at(&["countryOfDispatch"]))
            .or_else(|| country(house.text_at(&["countryOfDispatch"]))),
        country_of_destination: country(item.text_at(&["countryOfDestination"]))
            .or_else(|| country(house.text_at(&["countryOfDestination"]))),
        consignee: party(item.child("Consignee")).or_else(|| party(house.child("Consignee"))),
        consignor: party(house.child("Consignor")),
        previous_document: text(item.text_at(&["PreviousDocument", "type"]))
            .or_else(|| text(house.text_at(&["PreviousDocument", "type"]))),
    }
}

fn holder(root: &Element) -> Option<String> {
    let h = root.child("HolderOfTheTransitProcedure")?;
    text(h.text_at(&["identificationNumber"]))
        .or_else(|| text(h.text_at(&["TIRHolderIdentificationNumber"])))
        .or_else(|| text(h.text_at(&["name"])))
}

/// A party by its identification number, or its name when it has none.
fn party(p: Option<&Element>) -> Option<String> {
    let p = p?;
    text(p.text_at(&["identificationNumber"])).or_else(|| text(p.text_at(&["name"])))
}

fn text(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_string)
}

fn country(value: Option<&str>) -> Option<String> {
    value
        .filter(|v| v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase()))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_read_with_the_lowest_level_winning() {
        let xml = r#"<ncts:CC015C xmlns:ncts="http://ncts.dgtaxud.ec">
  <HolderOfTheTransitProcedure><identificationNumber>KZ880101300123</identificationNumber></HolderOfTheTransitProcedure>
  <Guarantee><sequenceNumber>1</sequenceNumber><guaranteeType>1</guaranteeType></Guarantee>
  <Consignment>
    <countryOfDispatch>CN</countryOfDispatch>
    <countryOfDestination>GE</countryOfDestination>
    <modeOfTransportAtTheBorder>3</modeOfTransportAtTheBorder>
    <grossMass>1500</grossMass>
    <Consignor><name>Urumqi Trading</name></Consignor>
    <TransportEquipment><sequenceNumber>1</sequenceNumber><numberOfSeals>2</numberOfSeals></TransportEquipment>
    <TransportEquipment><sequenceNumber>2</sequenceNumber><numberOfSeals>1</numberOfSeals></TransportEquipment>
    <ActiveBorderTransportMeans><sequenceNumber>1</sequenceNumber><identificationNumber>777ABC02</identificationNumber><nationality>KZ</nationality></ActiveBorderTransportMeans>
    <PreviousDocument><sequenceNumber>1</sequenceNumber><type>N740</type><referenceNumber>X</referenceNumber></PreviousDocument>
    <HouseConsignment>
      <sequenceNumber>1</sequenceNumber>
      <countryOfDestination>AZ</countryOfDestination>
      <grossMass>1500</grossMass>
      <Consignee><identificationNumber>AZ1700123456</identificationNumber></Consignee>
      <ConsignmentItem>
        <goodsItemNumber>1</goodsItemNumber><declarationGoodsItemNumber>1</declarationGoodsItemNumber>
        <countryOfDestination>GE</countryOfDestination>
        <Commodity>
          <descriptionOfGoods>Network switches</descriptionOfGoods>
          <CommodityCode><harmonizedSystemSubHeadingCode>851762</harmonizedSystemSubHeadingCode><combinedNomenclatureCode>00</combinedNomenclatureCode></CommodityCode>
          <GoodsMeasure><grossMass>1200.5</grossMass><netMass>1100</netMass></GoodsMeasure>
        </Commodity>
      </ConsignmentItem>
      <ConsignmentItem>
        <goodsItemNumber>2</goodsItemNumber><declarationGoodsItemNumber>2</declarationGoodsItemNumber>
        <Commodity><descriptionOfGoods>Cables</descriptionOfGoods>
          <CommodityCode><harmonizedSystemSubHeadingCode>8544AB</harmonizedSystemSubHeadingCode></CommodityCode>
        </Commodity>
        <PreviousDocument><sequenceNumber>1</sequenceNumber><type>N821</type><referenceNumber>Y</referenceNumber></PreviousDocument>
      </ConsignmentItem>
    </HouseConsignment>
  </Consignment>
</ncts:CC015C>"#;
        let root = crate::xml::parse(xml).unwrap();
        let c = consignment(&root);
        assert_eq!(c.holder.as_deref(), Some("KZ880101300123"));
        assert_eq!(c.consignor.as_deref(), Some("Urumqi Trading"));
        assert_eq!(c.country_of_dispatch.as_deref(), Some("CN"));
        assert_eq!(c.transport_mode.as_deref(), Some("3"));
        assert_eq!(c.transport_nationality.as_deref(), Some("KZ"));
        assert_eq!(c.transport_identification.as_deref(), Some("777ABC02"));
        assert_eq!(c.seals, Some(3));
        assert_eq!(c.guarantee_type.as_deref(), Some("1"));
        assert_eq!(c.previous_document.as_deref(), Some("N740"));
        let [a, b] = &c.items[..] else {
            panic!("two items")
        };
        assert_eq!(a.commodity_code.as_deref(), Some("85176200"));
        assert_eq!(a.description, "Network switches");
        assert_eq!(
            (a.gross_mass_kg, a.net_mass_kg),
            (Some(1200.5), Some(1100.0))
        );
        assert_eq!(
            a.country_of_destination.as_deref(),
            Some("GE"),
            "the item's own"
        );
        assert_eq!(
            b.country_of_destination.as_deref(),
            Some("AZ"),
            "the house's"
        );
        assert_eq!(a.consignee.as_deref(), Some("AZ1700123456"));
        assert_eq!(b.commodity_code, None, "letters are left out");
        assert_eq!(b.previous_document.as_deref(), Some("N821"));
        assert_eq!(c.check(), Ok(()));
    }
}
